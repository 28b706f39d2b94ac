import * as tf from '@tensorflow/tfjs';
import type { Observer } from './observer.ts';

/** The callback behind {@link Observer.callbacks}; tensors in batch logs are kept, not resolved. */
export class ObserverCallback extends tf.Callback {
  private globalStep = 0;
  private batchesSinceFlush = 0;

  constructor(
    private readonly observer: Observer,
    private readonly flushEvery: number | 'epoch',
  ) {
    super();
  }

  override async onBatchEnd(_batch: number, logs?: tf.Logs): Promise<void> {
    const l = (logs as unknown as Record<string, tf.Scalar | number> | undefined)?.loss;
    const batchSize = (logs as unknown as { size?: number } | undefined)?.size ?? (this.params.batchSize as number | undefined);
    const urgent = l !== undefined && this.observer.step(this.globalStep, l, { batchSize });
    if (this.observer.shouldProfile(this.globalStep)) await this.observer.profileProbe();
    this.globalStep++;
    this.batchesSinceFlush++;
    // The epoch's last batch is flushed at epoch end, with the validation metrics.
    const samples = this.params.samples as number | undefined;
    const perBatch = this.params.batchSize as number | undefined;
    const lastOfEpoch = Boolean(this.params.doValidation) && samples != null && perBatch != null && (_batch + 1) * perBatch >= samples;
    if ((urgent || (typeof this.flushEvery === 'number' && this.batchesSinceFlush >= this.flushEvery)) && !lastOfEpoch) {
      this.batchesSinceFlush = 0;
      await this.observer.flush();
    }
  }

  override async onEpochEnd(_epoch: number, logs?: tf.Logs): Promise<void> {
    if (this.batchesSinceFlush === 0) return;
    const val: Record<string, number> = {};
    for (const [k, v] of Object.entries((logs ?? {}) as Record<string, number | tf.Scalar>))
      if (k.startsWith('val_')) val[k] = typeof v === 'number' ? v : (await v.data())[0]!;
    this.batchesSinceFlush = 0;
    await this.observer.flush({ valMetrics: val });
  }
}
