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

  /**
   * @param oneStatement the database runs data-modifying CTEs (PostgreSQL: `OpenDatabase.writableCte`):
   *   a batch is then one statement, one round trip that holds the session rows' locks only while
   *   it runs, instead of five (BEGIN, reserve, start the analysis, insert, COMMIT) with the locks
   *   held across them. SQLite, in-process, keeps the transaction.
   */
  constructor(
    private readonly db: Db,
    private readonly text: RawText = PLAIN_TEXT,
    private readonly oneStatement = false,
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
      const chunk = requests.slice(i, j);
      const stored = this.oneStatement ? await this.writeInOneStatement(chunk) : await this.db.$transaction((tx) => this.writeInTransaction(tx, chunk), TX_OPTIONS);
      out.push(...outcomes(chunk, stored));
      i = j;
    }
    return out;
  }

  /** Rows per session in the batch, in session id order (two replicas never wait on each other in a cycle). */
  private static perSession(requests: StepRow[][]): [number, number][] {
    const n = new Map<number, number>();
    for (const req of requests) n.set(req[0]!.sessionId, (n.get(req[0]!.sessionId) ?? 0) + req.length);
    return [...n].sort((a, b) => a[0] - b[0]);
  }

  /** A row's values for an INSERT, strings encoded for the database. */
  private values(r: StepRow): Prisma.Sql[] {
    return COLUMNS.map((c) => Prisma.sql`${typeof r[c] === 'string' ? this.text.encode(r[c]) : r[c]}`);
  }

  /** Each admitted session's reservation, then one multi-row INSERT, in an interactive transaction. */
  private async writeInTransaction(tx: Prisma.TransactionClient, requests: StepRow[][]): Promise<Stored> {
    const admitted = new Map<number, Reservation>();
    for (const [sessionId, n] of StepWriter.perSession(requests)) {
      const [row] = await tx.$queryRaw<{ stepSeq: number | bigint; status: string; statusVersion: number | bigint }[]>`
        UPDATE "TrainSession" SET "stepSeq" = "stepSeq" + ${n}
        WHERE "id" = ${sessionId} AND "status" IN (${Prisma.join(STEP_ACCEPTING)})
        RETURNING "stepSeq", "status", "statusVersion"`;
      if (!row) continue;
      const a: Reservation = { first: Number(row.stepSeq) - n + 1, status: row.status, statusVersion: Number(row.statusVersion), started: false };
      if (a.status === 'running') {
        // The row is locked by this transaction: nobody moves it between the two statements.
        await tx.$executeRaw`UPDATE "TrainSession" SET "status" = 'analyzing', "statusVersion" = "statusVersion" + 1 WHERE "id" = ${sessionId}`;
        Object.assign(a, { status: 'analyzing', statusVersion: a.statusVersion + 1, started: true });
      }
      admitted.set(sessionId, a);
    }
    const rows = withSeq(requests, admitted);
    const ids = new Map<string, number>();
    if (rows.length) {
      // Prisma writes the placeholders each database wants (? or $n) and binds the Date for it.
      const values = Prisma.join(rows.map((r) => Prisma.sql`(${Prisma.join(this.values(r))})`));
      const inserted = await tx.$queryRaw<{ id: number; sessionId: number; stepIndex: number }[]>`
        INSERT INTO "TrainStep" (${COLUMN_LIST}) VALUES ${values}
        ON CONFLICT ("sessionId", "stepIndex") DO NOTHING RETURNING "id", "sessionId", "stepIndex"`;
      for (const r of inserted) ids.set(`${r.sessionId}:${r.stepIndex}`, Number(r.id));
    }
    return { admitted, ids };
  }

  /**
   * The same in one statement (PostgreSQL): `locked` takes the admitted sessions' rows in id
   * order and reads their status as it is once locked (in READ COMMITTED a `FOR UPDATE` waits
   * for a concurrent writer and returns its committed row); `reserved` moves them like the
   * transaction does and returns the status before (`RETURNING` sees only the new row); the
   * INSERT numbers each row from its session's reservation.
   */
  private async writeInOneStatement(requests: StepRow[][]): Promise<Stored> {
    const sessions = StepWriter.perSession(requests);
    const req = Prisma.join(sessions.map(([id, n]) => Prisma.sql`(CAST(${id} AS INTEGER), CAST(${n} AS INTEGER))`));
    // Each row's place within its session's reservation, in request order.
    const k = new Map<number, number>();
    const rows = Prisma.join(
      requests.flatMap((reqRows) =>
        reqRows.map((r) => {
          const place = k.get(r.sessionId) ?? 0;
          k.set(r.sessionId, place + 1);
          const v = this.values(r);
          return Prisma.sql`(${Prisma.join(COLUMNS.map((c, i) => Prisma.sql`CAST(${v[i]!} AS ${Prisma.raw(PG_TYPES[c])})`))}, CAST(${place} AS INTEGER))`;
        }),
      ),
    );
    const accepting = Prisma.join(STEP_ACCEPTING);
    const result = await this.db.$queryRaw<{ kind: number; a: number | bigint; b: number | bigint; c: number | bigint | null; status: string | null; before: string | null }[]>`
      WITH "req" ("sessionId", "n") AS (VALUES ${req}),
      "locked" AS (
        SELECT t."id", t."status" FROM "TrainSession" t JOIN "req" ON t."id" = "req"."sessionId"
        WHERE t."status" IN (${accepting}) ORDER BY t."id" FOR UPDATE OF t
      ),
      "reserved" AS (
        UPDATE "TrainSession" t SET
          "stepSeq" = t."stepSeq" + "req"."n",
          "status" = CASE WHEN t."status" = 'running' THEN 'analyzing' ELSE t."status" END,
          "statusVersion" = t."statusVersion" + CASE WHEN t."status" = 'running' THEN 1 ELSE 0 END
        FROM "req", "locked"
        WHERE t."id" = "req"."sessionId" AND "locked"."id" = t."id" AND t."status" IN (${accepting})
        RETURNING t."id", t."stepSeq", t."status", t."statusVersion", "req"."n", "locked"."status" AS "before"
      ),
      "rows" (${COLUMN_LIST}, "place") AS (VALUES ${rows}),
      "inserted" AS (
        INSERT INTO "TrainStep" (${COLUMN_LIST})
        SELECT ${Prisma.raw(COLUMNS.filter((c) => c !== 'seq').map((c) => `"rows"."${c}"`).join(', '))}, "reserved"."stepSeq" - "reserved"."n" + 1 + "rows"."place"
        FROM "rows" JOIN "reserved" ON "reserved"."id" = "rows"."sessionId"
        ON CONFLICT ("sessionId", "stepIndex") DO NOTHING RETURNING "id", "sessionId", "stepIndex"
      )
      SELECT 0 AS "kind", "id" AS "a", "stepSeq" - "n" + 1 AS "b", "statusVersion" AS "c", "status", "before" FROM "reserved"
      UNION ALL SELECT 1, "sessionId", "stepIndex", "id", NULL, NULL FROM "inserted"`;
    const admitted = new Map<number, Reservation>();
    const ids = new Map<string, number>();
    for (const r of result) {
      if (Number(r.kind) === 0) admitted.set(Number(r.a), { first: Number(r.b), status: r.status!, statusVersion: Number(r.c), started: r.before === 'running' });
      else ids.set(`${Number(r.a)}:${Number(r.b)}`, Number(r.c));
    }
    return { admitted, ids };
  }
}

/** What a batch's write did: each admitted session's reservation, and the id of each row stored (by `sessionId:stepIndex`). */
interface Stored {
  admitted: Map<number, Reservation>;
  ids: Map<string, number>;
}

/** A session's admission: its first reserved sequence number, its status after the write, and whether the write started the analysis. */
interface Reservation {
  first: number;
  status: string;
  statusVersion: number;
  started: boolean;
}

/** The columns' types on PostgreSQL, for the VALUES list of the one-statement write. */
const PG_TYPES: Record<(typeof COLUMNS)[number], string> = {
  sessionId: 'INTEGER',
  stepIndex: 'INTEGER',
  timestamp: 'TEXT',
  durationSeconds: 'TEXT',
  loss: 'TEXT',
  throughput: 'TEXT',
  profiler: 'TEXT',
  memory: 'TEXT',
  system: 'TEXT',
  layerHealth: 'TEXT',
  sustainability: 'TEXT',
  carbonEmissions: 'TEXT',
  extra: 'TEXT',
  createdAt: 'TIMESTAMP(3)',
  seq: 'INTEGER',
};

/** The admitted requests' rows, numbered from their session's reservation in request order. */
function withSeq(requests: StepRow[][], admitted: ReadonlyMap<number, Reservation>): StepRow[] {
  const next = new Map([...admitted].map(([id, a]) => [id, a.first]));
  const rows: StepRow[] = [];
  for (const req of requests) {
    const n = next.get(req[0]!.sessionId);
    if (n === undefined) continue;
    req.forEach((r, i) => rows.push({ ...r, seq: n + i }));
    next.set(req[0]!.sessionId, n + req.length);
  }
  return rows;
}

/** Each request's outcome from what the batch stored. */
function outcomes(requests: StepRow[][], { admitted, ids }: Stored): WriteOutcome[] {
  const next = new Map([...admitted].map(([id, a]) => [id, a.first]));
  // The first request of the session in the batch is the one that started the analysis.
  const started = new Set([...admitted].filter(([, a]) => a.started).map(([id]) => id));
  return requests.map((req): WriteOutcome => {
    const a = admitted.get(req[0]!.sessionId);
    if (!a) return { accepted: false };
    const first = next.get(req[0]!.sessionId)!;
    next.set(req[0]!.sessionId, first + req.length);
    const rows = req.map((r, i) => {
      const key = `${r.sessionId}:${r.stepIndex}`;
      const id = ids.get(key) ?? null;
      // The same index twice in a batch: only the first is the stored one.
      if (id !== null) ids.delete(key);
      return { stepIndex: r.stepIndex, id, created: id !== null, createdAt: r.createdAt, seq: first + i };
    });
    const startedAnalyzing = started.delete(req[0]!.sessionId);
    return { accepted: true, rows, status: a.status, statusVersion: a.statusVersion, startedAnalyzing, firstSeq: first, lastSeq: first + req.length - 1 };
  });
}
