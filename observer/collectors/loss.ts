import * as tf from '@tensorflow/tfjs';
import type { LossStats } from '../record.ts';

/** Losses held per device buffer: shapes stay fixed, so WebGL/WebGPU compile their kernels once. */
const CAPACITY = 128;

/**
 * Accumulates the losses of one flush without reading them back. Each loss is added into a
 * fixed-size buffer on the device (where(slot i, loss, buffer): the same few kernels, the same
 * shapes every step, one live tensor per 128 steps), numbers go to an array, and everything
 * is read once, asynchronously, at flush.
 */
export class LossCollector {
  private full: tf.Tensor1D[] = [];
  private buffer: tf.Tensor1D | null = null;
  private slot = 0;
  private bufferSteps: number[] = [];
  private basis: tf.Tensor1D[] | null = null;
  private numbers: { step: number; value: number }[] = [];

  /** Records one step's loss. Never reads a tensor back. */
  add(step: number, loss: tf.Tensor | number): void {
    if (typeof loss === 'number') {
      this.numbers.push({ step, value: loss });
      return;
    }
    // In tidy: the intermediate tensors of building each mask are released at once.
    this.basis ??= tf.tidy(() => Array.from({ length: CAPACITY }, (_, i) => tf.keep(tf.oneHot(tf.tensor1d([i], 'int32'), CAPACITY).reshape([CAPACITY]).asType('bool') as tf.Tensor1D)));
    if (this.slot === CAPACITY) {
      this.full.push(this.buffer!);
      this.buffer = null;
      this.slot = 0;
    }
    const slot = this.slot;
    // where(), not a multiply by the one-hot: 0 x NaN would spread a NaN loss to every slot.
    const next = tf.tidy(() => {
      const value = tf.broadcastTo(loss.reshape([1]).asType('float32'), [CAPACITY]);
      return tf.where(this.basis![slot]!, value, this.buffer ?? tf.zeros([CAPACITY])) as tf.Tensor1D;
    });
    this.buffer?.dispose();
    this.buffer = tf.keep(next);
    this.slot++;
    this.bufferSteps.push(step);
  }

  /**
   * The current device buffer as a new handle on the same memory (no copy, no kernel) and the
   * steps in its filled slots, for a caller that reads it asynchronously and disposes it.
   */
  peek(): { values: tf.Tensor1D; steps: number[] } | null {
    if (!this.buffer || this.slot === 0) return null;
    return { values: this.buffer.clone(), steps: this.bufferSteps.slice(this.bufferSteps.length - this.slot) };
  }

  get count(): number {
    return this.bufferSteps.length + this.numbers.length;
  }

  /** Reads the flush's losses (one readback per 128 steps) and resets. */
  async collect(val?: Record<string, number>): Promise<LossStats> {
    const values: { step: number; value: number }[] = [...this.numbers];
    const buffers = this.buffer ? [...this.full, this.buffer] : this.full;
    const data = await Promise.all(buffers.map((b) => b.data()));
    this.bufferSteps.forEach((step, i) => values.push({ step, value: data[Math.floor(i / CAPACITY)]![i % CAPACITY]! }));
    tf.dispose(buffers);
    this.full = [];
    this.buffer = null;
    this.slot = 0;
    this.bufferSteps = [];
    this.numbers = [];
    return lossStats(values, val);
  }

  dispose(): void {
    tf.dispose([...this.full, ...(this.buffer ? [this.buffer] : []), ...(this.basis ?? [])]);
    this.full = [];
    this.buffer = null;
    this.basis = null;
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
