import * as tf from '@tensorflow/tfjs';

/** What the callback drives: the observer's step, profile and flush (the Observer, seen narrowly). */
export interface ObservedTraining {
  /** Records a step; true when a flush is due now (the NaN watch saw a broken loss). */
  step(step: number, loss: tf.Tensor | number, opts: { batchSize?: number }): boolean;
  shouldProfile(step: number): boolean;
  profileProbe(): Promise<void>;
  flush(opts?: { valMetrics?: Record<string, number> }): Promise<unknown>;
}

/** The callback behind `Observer.callbacks()`; tensors in batch logs are kept, not resolved. */
export class ObserverCallback extends tf.Callback {
  private globalStep = 0;
  private batchesSinceFlush = 0;

  constructor(
    private readonly observer: ObservedTraining,
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
