import type { Db } from '../../db/client.ts';
import { stringifyExtendedJson, type JsonObject } from '../../lib/extended-json.ts';

/** A step ready for storage: channel values already serialised as JSON text. */
export interface StepRow {
  sessionId: number;
  stepIndex: number;
  timestamp: string | null;
  durationSeconds: string | null;
  loss: string | null;
  throughput: string | null;
  profiler: string | null;
  memory: string | null;
  system: string | null;
  layerHealth: string | null;
  sustainability: string | null;
  carbonEmissions: string | null;
  extra: string | null;
  createdAt: string;
}

/** The outcome for one row: its id, or `created: false` when that step index was already stored. */
export interface InsertResult {
  stepIndex: number;
  id: number | null;
  created: boolean;
  createdAt: Date;
}

const COLUMNS = [
  'sessionId',
  'stepIndex',
  'timestamp',
  'durationSeconds',
  'loss',
  'throughput',
  'profiler',
  'memory',
  'system',
  'layerHealth',
  'sustainability',
  'carbonEmissions',
  'extra',
  'createdAt',
] as const satisfies readonly (keyof StepRow)[];

/** Rows per INSERT statement: 14 columns x 1000 stays under SQLite's 32,766 variables. */
const MAX_ROWS_PER_STATEMENT = 1000;
const ROW_SQL = `(${COLUMNS.map(() => '?').join(', ')})`;

interface Pending {
  rows: StepRow[];
  resolve: (r: InsertResult[]) => void;
  reject: (e: unknown) => void;
}

/** Serialises a channel for storage (Python-dialect JSON keeps NaN). */
export const channelText = (v: JsonObject | number | null | undefined): string | null =>
  v === null || v === undefined ? null : stringifyExtendedJson(v);

/**
 * Group commit for steps: every request that arrives in the same turn of the event loop is
 * written by one multi-row `INSERT ... ON CONFLICT DO NOTHING` through Prisma, so the
 * per-query cost is paid once per batch instead of once per step. A request is answered
 * only after its rows are committed; a step index already stored is reported as such and
 * never stored twice.
 */
export class StepWriter {
  private queue: Pending[] = [];
  private scheduled = false;

  constructor(private readonly db: Db) {}

  /** Inserts one request's rows (at most 1,000; atomically: they share one statement). */
  insert(rows: StepRow[]): Promise<InsertResult[]> {
    if (rows.length > MAX_ROWS_PER_STATEMENT) throw new RangeError(`at most ${MAX_ROWS_PER_STATEMENT} rows per insert`);
    return new Promise((resolve, reject) => {
      this.queue.push({ rows, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => void this.flush());
      }
    });
  }

  private async flush(): Promise<void> {
    this.scheduled = false;
    while (this.queue.length) {
      const batch: Pending[] = [];
      let n = 0;
      while (this.queue.length && n + this.queue[0]!.rows.length <= MAX_ROWS_PER_STATEMENT) {
        const p = this.queue.shift()!;
        n += p.rows.length;
        batch.push(p);
      }
      try {
        const results = await this.write(batch);
        batch.forEach((p, i) => p.resolve(results[i]!));
      } catch (err) {
        // One bad request must not fail the others that shared its statement: retry alone.
        if (batch.length === 1) batch[0]!.reject(err);
        else for (const p of batch) this.write([p]).then((r) => p.resolve(r[0]!), p.reject);
      }
    }
  }

  private async write(batch: Pending[]): Promise<InsertResult[][]> {
    const rows = batch.flatMap((p) => p.rows);
    const params: unknown[] = [];
    for (const r of rows) for (const c of COLUMNS) params.push(r[c]);
    const sql =
      `INSERT INTO "TrainStep" (${COLUMNS.map((c) => `"${c}"`).join(', ')}) VALUES ${rows.map(() => ROW_SQL).join(', ')} ` +
      `ON CONFLICT ("sessionId", "stepIndex") DO NOTHING RETURNING "id", "sessionId", "stepIndex"`;
    const inserted = await this.db.$queryRawUnsafe<{ id: number; sessionId: number; stepIndex: number }[]>(sql, ...params);
    const ids = new Map(inserted.map((r) => [`${r.sessionId}:${r.stepIndex}`, Number(r.id)]));
    return batch.map((p) =>
      p.rows.map((r) => {
        const key = `${r.sessionId}:${r.stepIndex}`;
        const id = ids.get(key) ?? null;
        // Within one request the same index twice: only the first is the stored one.
        if (id !== null) ids.delete(key);
        return { stepIndex: r.stepIndex, id, created: id !== null, createdAt: new Date(r.createdAt) };
      }),
    );
  }
}
