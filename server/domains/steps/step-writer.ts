import { PLAIN_TEXT, type Db, type RawText } from '../../db/client.ts';
import { Prisma } from '../../generated/prisma/client.ts';
import { Batcher } from '../../lib/batcher.ts';
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
  createdAt: Date;
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

/** Rows per INSERT statement: 14 columns x 1000 stays under SQLite's 32,766 variables (and PostgreSQL's 65,535). */
const MAX_ROWS_PER_STATEMENT = 1000;
const COLUMN_LIST = Prisma.raw(COLUMNS.map((c) => `"${c}"`).join(', '));

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
  private readonly batcher: Batcher<StepRow[], InsertResult[]>;

  constructor(
    private readonly db: Db,
    private readonly text: RawText = PLAIN_TEXT,
  ) {
    this.batcher = new Batcher((requests) => this.write(requests), MAX_ROWS_PER_STATEMENT);
  }

  /** Inserts one request's rows (at most 1,000; atomically: they share one statement). */
  insert(rows: StepRow[]): Promise<InsertResult[]> {
    if (rows.length > MAX_ROWS_PER_STATEMENT) throw new RangeError(`at most ${MAX_ROWS_PER_STATEMENT} rows per insert`);
    return this.batcher.submit(rows);
  }

  /** One statement for every request of the batch (split if it would exceed the row limit). */
  private async write(requests: StepRow[][]): Promise<InsertResult[][]> {
    const out: InsertResult[][] = [];
    for (let i = 0; i < requests.length; ) {
      let n = 0;
      let j = i;
      while (j < requests.length && n + requests[j]!.length <= MAX_ROWS_PER_STATEMENT) n += requests[j++]!.length;
      out.push(...(await this.writeOne(requests.slice(i, j))));
      i = j;
    }
    return out;
  }

  private async writeOne(requests: StepRow[][]): Promise<InsertResult[][]> {
    const rows = requests.flat();
    // Prisma writes the placeholders each database wants (? or $n) and binds the Date for it.
    const values = Prisma.join(rows.map((r) => Prisma.sql`(${Prisma.join(COLUMNS.map((c) => (typeof r[c] === 'string' ? this.text.encode(r[c]) : r[c])))})`));
    const inserted = await this.db.$queryRaw<{ id: number; sessionId: number; stepIndex: number }[]>`
      INSERT INTO "TrainStep" (${COLUMN_LIST}) VALUES ${values}
      ON CONFLICT ("sessionId", "stepIndex") DO NOTHING RETURNING "id", "sessionId", "stepIndex"`;
    const ids = new Map(inserted.map((r) => [`${r.sessionId}:${r.stepIndex}`, Number(r.id)]));
    return requests.map((req) =>
      req.map((r) => {
        const key = `${r.sessionId}:${r.stepIndex}`;
        const id = ids.get(key) ?? null;
        // The same index twice in a batch: only the first is the stored one.
        if (id !== null) ids.delete(key);
        return { stepIndex: r.stepIndex, id, created: id !== null, createdAt: r.createdAt };
      }),
    );
  }
}
