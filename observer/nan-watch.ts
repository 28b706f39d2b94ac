import type * as tf from '@tensorflow/tfjs';

/** What the watch reads: the losses already on the device (the loss collector's buffer). */
export interface LossBuffer {
  /** A new handle on the buffer (no copy, no kernel) and the steps in its filled slots; the caller disposes it. */
  peek(): { values: tf.Tensor; steps: number[] } | null;
}

/**
 * The NaN watch (`flushOnNonFinite`): notices a NaN or Infinity loss soon after the step that
 * produced it, so the loop flushes at once and the server can pause training there instead of
 * at the next scheduled flush. It reads the loss buffer without waiting, one read at a time:
 * where a read resolves by the next step (cpu, a loop that yields) every step is checked;
 * where reads are slow (WebGL) a read covers the steps that ran meanwhile, so readbacks never
 * pile up. It fires once per breakage, and again only after a flush of finite losses.
 */
export class NanWatch {
  /** The step whose loss was seen non-finite, not yet flushed. */
  private brokenAt: number | null = null;
  /** The newest step seen, and the newest one flushed: a read still out that covers flushed steps only is ignored. */
  private lastStep = -Infinity;
  private flushedThrough = -Infinity;
  /** After an early flush for a broken loss, no more until a flush reads finite losses again. */
  private quiet = false;
  /** Whether a read is out. */
  private reading = false;

  constructor(private readonly losses: LossBuffer) {}

  /** True when a flush is due now: a NaN or Infinity loss was seen since the last flush. */
  get due(): boolean {
    return this.brokenAt !== null;
  }

  /** Notes a step; with `check`, also looks at its loss (a number at once, a tensor through the buffer). */
  step(step: number, loss: tf.Tensor | number, check: boolean): void {
    this.lastStep = Math.max(this.lastStep, step);
    if (!check || this.quiet || this.brokenAt !== null) return;
    if (typeof loss === 'number') {
      if (!Number.isFinite(loss)) this.seen(step);
      return;
    }
    if (this.reading) return;
    const peek = this.losses.peek();
    if (!peek) return;
    this.reading = true;
    peek.values
      .data()
      .then((v) => {
        const bad = peek.steps.findIndex((_, i) => !Number.isFinite(v[i]!));
        if (bad >= 0) this.seen(peek.steps[bad]!);
      })
      // A failed read (a lost context) only skips this check.
      .catch(() => undefined)
      .finally(() => {
        peek.values.dispose();
        this.reading = false;
      });
  }

  /**
   * Everything up to the newest step was flushed. `brokenInFlush`: whether the flushed losses
   * held a non-finite one (the watch stays quiet while they do, after firing once).
   */
  flushed(brokenInFlush: boolean): void {
    this.quiet = this.brokenAt !== null || (this.quiet && brokenInFlush);
    this.brokenAt = null;
    this.flushedThrough = this.lastStep;
  }

  private seen(step: number): void {
    if (step > this.flushedThrough && this.brokenAt === null) this.brokenAt = step;
  }
}
