import * as tf from '@tensorflow/tfjs';
import type { LossStats } from '../record.ts';

/**
 * Accumulates the losses of one flush without reading them back: tensors are appended to
 * one buffer on the device (so the tensor count stays flat), numbers to an array, and both
 * are read once, asynchronously, at flush.
 */
export class LossCollector {
  private buffer: tf.Tensor1D | null = null;
  private bufferSteps: number[] = [];
  private numbers: { step: number; value: number }[] = [];

  /** Records one step's loss. Never reads a tensor back. */
  add(step: number, loss: tf.Tensor | number): void {
    if (typeof loss === 'number') {
      this.numbers.push({ step, value: loss });
      return;
    }
    const next = tf.tidy(() => {
      const v = loss.reshape([1]).asType('float32') as tf.Tensor1D;
      return this.buffer ? (tf.concat([this.buffer, v]) as tf.Tensor1D) : v.clone();
    });
    this.buffer?.dispose();
    this.buffer = tf.keep(next);
    this.bufferSteps.push(step);
  }

  get count(): number {
    return this.bufferSteps.length + this.numbers.length;
  }

  /** Reads the flush's losses (one readback) and resets. */
  async collect(val?: Record<string, number>): Promise<LossStats> {
    const values: { step: number; value: number }[] = [...this.numbers];
    if (this.buffer) {
      const data = await this.buffer.data();
      this.bufferSteps.forEach((step, i) => values.push({ step, value: data[i]! }));
      this.buffer.dispose();
    }
    this.buffer = null;
    this.bufferSteps = [];
    this.numbers = [];
    return lossStats(values, val);
  }

  dispose(): void {
    this.buffer?.dispose();
    this.buffer = null;
  }
}

/** Mean, min, max and std of the values (NaN when any is NaN: the loss is what it is). */
export function lossStats(values: { step: number; value: number }[], val?: Record<string, number>): LossStats {
  values.sort((a, b) => a.step - b.step);
  const xs = values.map((v) => v.value);
  const n = xs.length;
  const firstBad = values.find((v) => !Number.isFinite(v.value));
  const stats: LossStats = { train_mean: null, train_min: null, train_max: null, train_std: null, num_batches: n, first_non_finite_step: firstBad?.step ?? null };
  if (val && Object.keys(val).length) stats.val = val;
  if (n === 0) return stats;
  const mean = xs.reduce((s, x) => s + x, 0) / n;
  stats.train_mean = mean;
  stats.train_min = xs.some(Number.isNaN) ? Number.NaN : Math.min(...xs);
  stats.train_max = xs.some(Number.isNaN) ? Number.NaN : Math.max(...xs);
  stats.train_std = Math.sqrt(xs.reduce((s, x) => s + (x - mean) ** 2, 0) / n);
  return stats;
}
