import type { LogLine } from '../collectors/logs.ts';
import type { JsonObject, StepRecord } from '../record.ts';

/** What waits to be sent, in order. */
export type OutboxItem =
  | { kind: 'model'; architecture: JsonObject; hyperparameters: JsonObject | null }
  | { kind: 'step'; record: StepRecord }
  | { kind: 'logs'; lines: LogLine[] };

/**
 * Records waiting for the server, bounded and in order. When the bound is hit the oldest
 * step or log items are dropped (never the model) and counted, so what was lost is known.
 */
export class Outbox {
  private items: OutboxItem[] = [];
  /** Items dropped because the outbox was full, by kind. */
  readonly dropped = { steps: 0, logs: 0 };

  constructor(private readonly limit: number) {}

  push(item: OutboxItem): void {
    this.items.push(item);
    while (this.items.length > this.limit) {
      const i = this.items.findIndex((x) => x.kind !== 'model');
      if (i < 0) break;
      const [gone] = this.items.splice(i, 1);
      if (gone!.kind === 'step') this.dropped.steps++;
      else if (gone!.kind === 'logs') this.dropped.logs += gone!.lines.length;
    }
  }

  get size(): number {
    return this.items.length;
  }

  /** The run of items at the head that share the head's kind (at most `max`). */
  head(max: number): OutboxItem[] {
    const first = this.items[0];
    if (!first) return [];
    const out: OutboxItem[] = [];
    for (const x of this.items) {
      if (x.kind !== first.kind || out.length >= max) break;
      out.push(x);
      if (x.kind === 'model') break;
    }
    return out;
  }

  /** Removes the first `n` items (after they were sent). */
  shift(n: number): void {
    this.items.splice(0, n);
  }

  /** Everything still waiting (for export). */
  pending(): readonly OutboxItem[] {
    return this.items;
  }
}
