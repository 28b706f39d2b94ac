import { PLAIN_TEXT, TX_OPTIONS, type Db, type RawText } from '../../db/client.ts';
import { Prisma } from '../../generated/prisma/client.ts';
import { Batcher } from '../../lib/batcher.ts';
import { STEP_ACCEPTING } from '../sessions/status.ts';
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
  /** Set by the writer: the step's place in its session's commit order. */
  seq: number;
}

/** The outcome for one row: its id, or `created: false` when that step index was already stored. */
export interface InsertResult {
  stepIndex: number;
  id: number | null;
  created: boolean;
  createdAt: Date;
  /** The sequence number reserved for the row (a duplicate's has no row). */
  seq: number;
}

/** What storing a request's rows did to its session, or why nothing was stored. */
export type WriteOutcome =
  | {
      accepted: true;
      rows: InsertResult[];
      /** The session's status after the write, its version, and whether this request moved it to `analyzing`. */
      status: string;
      statusVersion: number;
      startedAnalyzing: boolean;
      /** The sequence numbers reserved for this request's rows, first to last. */
      firstSeq: number;
      lastSeq: number;
    }
  /** The session does not exist or does not accept steps now: nothing was stored. */
  | { accepted: false };

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
  'seq',
] as const satisfies readonly (keyof StepRow)[];

/** Rows per INSERT statement: 15 columns x 1000 stays under SQLite's 32,766 variables (and PostgreSQL's 65,535). */
const MAX_ROWS_PER_STATEMENT = 1000;
const COLUMN_LIST = Prisma.raw(COLUMNS.map((c) => `"${c}"`).join(', '));

/** Serialises a channel for storage (Python-dialect JSON keeps NaN). */
export const channelText = (v: JsonObject | number | null | undefined): string | null =>
  v === null || v === undefined ? null : stringifyExtendedJson(v);

/**
 * Group commit for steps: every request that arrives in the same turn of the event loop is
 * written in one transaction through Prisma, so the per-query cost is paid once per batch
 * instead of once per step. For each session in the batch, one conditional update admits the
 * steps only while the session accepts them (running, analyzing or paused), moves `running` to
 * `analyzing`, and reserves sequence numbers under the session row's lock (so sequence order is
 * commit order, whichever replica writes); then one multi-row `INSERT ... ON CONFLICT DO
 * NOTHING` stores every admitted row. A request is answered only after its rows are
 * committed; a step index already stored is reported as such and never stored twice.
 */
export class StepWriter {
  private readonly batcher: Batcher<StepRow[], WriteOutcome>;

  constructor(
    private readonly db: Db,
    private readonly text: RawText = PLAIN_TEXT,
  ) {
    this.batcher = new Batcher((requests) => this.write(requests), MAX_ROWS_PER_STATEMENT);
  }

  /** Inserts one request's rows (at least one, at most 1,000, of one session; atomically). */
  insert(rows: StepRow[]): Promise<WriteOutcome> {
    if (rows.length === 0 || rows.length > MAX_ROWS_PER_STATEMENT) throw new RangeError(`1 to ${MAX_ROWS_PER_STATEMENT} rows per insert`);
    return this.batcher.submit(rows);
  }

  /** One transaction for every request of the batch (split if it would exceed the row limit). */
  private async write(requests: StepRow[][]): Promise<WriteOutcome[]> {
    const out: WriteOutcome[] = [];
    for (let i = 0; i < requests.length; ) {
      let n = 0;
      let j = i;
      while (j < requests.length && n + requests[j]!.length <= MAX_ROWS_PER_STATEMENT) n += requests[j++]!.length;
      out.push(...(await this.db.$transaction((tx) => this.writeOne(tx, requests.slice(i, j)), TX_OPTIONS)));
      i = j;
    }
    return out;
  }

  private async writeOne(tx: Prisma.TransactionClient, requests: StepRow[][]): Promise<WriteOutcome[]> {
    const perSession = new Map<number, number>();
    for (const req of requests) perSession.set(req[0]!.sessionId, (perSession.get(req[0]!.sessionId) ?? 0) + req.length);
    // Sessions in id order, so that two replicas' transactions never wait on each other in a cycle.
    const admitted = new Map<number, { next: number; status: string; statusVersion: number; started: boolean }>();
    for (const sessionId of [...perSession.keys()].sort((a, b) => a - b)) {
      const n = perSession.get(sessionId)!;
      const [row] = await tx.$queryRaw<{ stepSeq: number | bigint; status: string; statusVersion: number | bigint }[]>`
        UPDATE "TrainSession" SET "stepSeq" = "stepSeq" + ${n}
        WHERE "id" = ${sessionId} AND "status" IN (${Prisma.join(STEP_ACCEPTING)})
        RETURNING "stepSeq", "status", "statusVersion"`;
      if (!row) continue;
      const a = { next: Number(row.stepSeq) - n + 1, status: row.status, statusVersion: Number(row.statusVersion), started: false };
      if (a.status === 'running') {
        // The row is locked by this transaction: nobody moves it between the two statements.
        await tx.$executeRaw`UPDATE "TrainSession" SET "status" = 'analyzing', "statusVersion" = "statusVersion" + 1 WHERE "id" = ${sessionId}`;
        Object.assign(a, { status: 'analyzing', statusVersion: a.statusVersion + 1, started: true });
      }
      admitted.set(sessionId, a);
    }
    const rows: StepRow[] = [];
    const seqOf = requests.map((req) => {
      const a = admitted.get(req[0]!.sessionId);
      return a ? req.map((r) => (rows.push({ ...r, seq: a.next }), a.next++)) : [];
    });
    const ids = new Map<string, number>();
    if (rows.length) {
      // Prisma writes the placeholders each database wants (? or $n) and binds the Date for it.
      const values = Prisma.join(rows.map((r) => Prisma.sql`(${Prisma.join(COLUMNS.map((c) => (typeof r[c] === 'string' ? this.text.encode(r[c]) : r[c])))})`));
      const inserted = await tx.$queryRaw<{ id: number; sessionId: number; stepIndex: number }[]>`
        INSERT INTO "TrainStep" (${COLUMN_LIST}) VALUES ${values}
        ON CONFLICT ("sessionId", "stepIndex") DO NOTHING RETURNING "id", "sessionId", "stepIndex"`;
      for (const r of inserted) ids.set(`${r.sessionId}:${r.stepIndex}`, Number(r.id));
    }
    return requests.map((req, k): WriteOutcome => {
      const a = admitted.get(req[0]!.sessionId);
      if (!a) return { accepted: false };
      const seqs = seqOf[k]!;
      // The first request of the session in the batch is the one that started the analysis.
      const startedAnalyzing = a.started;
      a.started = false;
      const results = req.map((r, i) => {
        const key = `${r.sessionId}:${r.stepIndex}`;
        const id = ids.get(key) ?? null;
        // The same index twice in a batch: only the first is the stored one.
        if (id !== null) ids.delete(key);
        return { stepIndex: r.stepIndex, id, created: id !== null, createdAt: r.createdAt, seq: seqs[i]! };
      });
      return { accepted: true, rows: results, status: a.status, statusVersion: a.statusVersion, startedAnalyzing, firstSeq: seqs[0]!, lastSeq: seqs[seqs.length - 1]! };
    });
  }
}
