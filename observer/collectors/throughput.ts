import type { JsonObject } from '../record.ts';

/** Samples and tokens over the wall time of a flush (seed §6 `throughput`). */
export class ThroughputCollector {
  private samples = 0;
  private tokens = 0;

  add(batchSize: number | undefined, seqLength: number | undefined): void {
    if (batchSize) {
      this.samples += batchSize;
      this.tokens += batchSize * (seqLength ?? 0);
    }
  }

  /** Rates over `seconds`, then resets. */
  collect(seconds: number): JsonObject {
    const out = {
      samples_processed: this.samples,
      tokens_processed: this.tokens,
      samples_per_second: seconds > 0 ? this.samples / seconds : 0,
      tokens_per_second: seconds > 0 ? this.tokens / seconds : 0,
    };
    this.samples = 0;
    this.tokens = 0;
    return out;
  }
}
