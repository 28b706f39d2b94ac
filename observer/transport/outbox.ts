import type { LogLine } from '../collectors/logs.ts';
import type { JsonObject, StepRecord } from '../record.ts';

/** What waits to be sent, in order. */
export type OutboxItem =
  | { kind: 'model'; architecture: JsonObject; hyperparameters: JsonObject | null }
  | { kind: 'step'; record: StepRecord }
  | { kind: 'logs'; lines: LogLine[] };

/**
 * Where an outbox keeps its items so that a reload or a closed tab loses nothing (IndexedDB in
 * a browser: `idbStore`). The outbox says what it needs; stores implement it.
 */
export interface OutboxStore {
  put(seq: number, item: OutboxItem): void;
  delete(seqs: number[]): void;
  setSession(sessionId: number): void;
  /** The outbox is empty and its owner done: forget it. */
  clear(): void;
}

/**
 * Records waiting for the server, bounded and in order, mirrored to a store (IndexedDB in a
 * browser) when one is given. When the bound is hit the oldest step or log items are
 * dropped (never the model) and counted, so what was lost is known.
 */
export class Outbox {
  private items: { seq: number; item: OutboxItem }[] = [];
  private nextSeq = 0;
  /** Items dropped because the outbox was full, by kind. */
  readonly dropped = { steps: 0, logs: 0 };

  constructor(
    private readonly limit: number,
    private readonly store: OutboxStore | null = null,
    restored: { seq: number; item: OutboxItem }[] = [],
  ) {
    this.items = [...restored];
    this.nextSeq = restored.length ? restored[restored.length - 1]!.seq + 1 : 0;
  }

  push(item: OutboxItem): void {
    const seq = this.nextSeq++;
    this.items.push({ seq, item });
    this.store?.put(seq, item);
    while (this.items.length > this.limit) {
      const i = this.items.findIndex((x) => x.item.kind !== 'model');
      if (i < 0) break;
      const [gone] = this.items.splice(i, 1);
      this.store?.delete([gone!.seq]);
      if (gone!.item.kind === 'step') this.dropped.steps++;
      else if (gone!.item.kind === 'logs') this.dropped.logs += gone!.item.lines.length;
    }
  }

  get size(): number {
    return this.items.length;
  }

  /** The run of items at the head that share the head's kind (at most `max`; a model alone). */
  head(max: number): OutboxItem[] {
    const first = this.items[0]?.item;
    if (!first) return [];
    const out: OutboxItem[] = [];
    for (const { item } of this.items) {
      if (item.kind !== first.kind || out.length >= max) break;
      out.push(item);
      if (item.kind === 'model') break;
    }
    return out;
  }

  /** Removes the first `n` items (after they were sent). */
  shift(n: number): void {
    const gone = this.items.splice(0, n);
    this.store?.delete(gone.map((g) => g.seq));
  }

  /** Puts what is left of the head item in its place (a message took only part of its lines). */
  replaceHead(item: OutboxItem): void {
    const head = this.items[0];
    if (!head) return;
    head.item = item;
    this.store?.put(head.seq, item);
  }

  /** Everything still waiting (for export). */
  pending(): OutboxItem[] {
    return this.items.map((x) => x.item);
  }
}
