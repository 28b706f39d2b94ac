import { PLAIN_TEXT, TX_OPTIONS, type Db, type RawText } from '../../db/client.ts';
import { Prisma } from '../../generated/prisma/client.ts';
import type { Issue } from '../../diagnostics/types.ts';
import { Batcher } from '../../lib/batcher.ts';
import { stringifyExtendedJson } from '../../lib/extended-json.ts';

/** A diagnostic run to store. */
export interface RunRow {
  sessionId: number;
  stepIndex: number | null;
  healthScore: number;
  verdict: string;
  issues: Issue[];
  createdAt: Date;
}

/** Ids given to a stored run and its issues (in the issues' order). */
export interface StoredIds {
  id: number;
  issueIds: number[];
}

const RUN_COLUMNS = Prisma.raw('"sessionId", "stepIndex", "healthScore", "issueCount", "verdict", "createdAt"');
const ISSUE_COLUMNS = Prisma.raw('"runId", "severity", "category", "code", "title", "description", "suggestion", "confidence", "layerId", "epochIndex", "metricValue", "remedies", "createdAt"');
/** One row of VALUES: Prisma writes the placeholders each database wants and binds Dates for it. */
const tuple = (values: unknown[]) => Prisma.sql`(${Prisma.join(values)})`;
/** Runs per batch: 6 variables a run keeps far under SQLite's limit; issues are split below. */
const MAX_RUNS = 500;
const MAX_ISSUES_PER_STATEMENT = 2000;

/** Ascending ids: the rows of one INSERT get ascending ids in VALUES order. */
const ascending = (rows: { id: number | bigint }[]) => rows.map((r) => Number(r.id)).sort((a, b) => a - b);

/**
 * Group commit for diagnostic runs: a run is stored after every step, so every run of one
 * turn of the event loop (all sessions together) goes into one INSERT, and their issues into
 * another, in one transaction.
 */
export class RunWriter {
  private readonly batcher: Batcher<RunRow, StoredIds>;

  constructor(
    private readonly db: Db,
    private readonly text: RawText = PLAIN_TEXT,
  ) {
    this.batcher = new Batcher((runs) => this.write(runs), MAX_RUNS);
  }

  insert(run: RunRow): Promise<StoredIds> {
    return this.batcher.submit(run);
  }

  /** Stores runs inside a transaction the caller holds (with the status change they led to). */
  insertIn(tx: Prisma.TransactionClient, runs: RunRow[]): Promise<StoredIds[]> {
    return this.writeWith(tx, runs);
  }

  private async write(runs: RunRow[]): Promise<StoredIds[]> {
    if (runs.every((r) => r.issues.length === 0)) return this.writeWith(this.db, runs);
    return this.db.$transaction((tx) => this.writeWith(tx, runs), TX_OPTIONS);
  }

  /** The runs in one INSERT and their issues in as few as fit; several statements need `client` to be a transaction. */
  private async writeWith(client: Pick<Db, '$queryRaw'>, runs: RunRow[]): Promise<StoredIds[]> {
    const runIds = ascending(
      await client.$queryRaw<{ id: number }[]>`INSERT INTO "DiagnosticRun" (${RUN_COLUMNS}) VALUES ${Prisma.join(
        runs.map((r) => tuple([r.sessionId, r.stepIndex, r.healthScore, r.issues.length, r.verdict, r.createdAt])),
      )} RETURNING "id"`,
    );
    const issues = runs.flatMap((r, k) => r.issues.map((i) => ({ runId: runIds[k]!, i, at: r.createdAt })));
    const issueIds: number[] = [];
    for (let start = 0; start < issues.length; start += MAX_ISSUES_PER_STATEMENT) {
      const chunk = issues.slice(start, start + MAX_ISSUES_PER_STATEMENT);
      const rows = await client.$queryRaw<{ id: number }[]>`INSERT INTO "DiagnosticIssue" (${ISSUE_COLUMNS}) VALUES ${Prisma.join(
        chunk.map(({ runId, i, at }) =>
          tuple([runId, ...this.issueValues(i, at)]),
        ),
      )} RETURNING "id"`;
      issueIds.push(...ascending(rows));
    }
    let next = 0;
    return runs.map((r, k) => ({ id: runIds[k]!, issueIds: issueIds.slice(next, (next += r.issues.length)) }));
  }

  /** An issue's columns after `runId`, strings encoded for the database. */
  private issueValues(i: Issue, at: Date): unknown[] {
    return [
      i.severity, i.category, i.code, ...[i.title, i.description, i.suggestion].map(this.text.encode), i.confidence,
      i.layerId != null ? this.text.encode(i.layerId) : null, i.epochIndex ?? null, i.metricValue ? this.text.encode(stringifyExtendedJson(i.metricValue)) : null,
      i.remedies?.length ? this.text.encode(stringifyExtendedJson(i.remedies)) : null, at,
    ];
  }

  /**
   * One run and its issues as two data-modifying CTEs, `"run"` and `"issues"` (each returning
   * `"id"`), for a statement the caller writes (PostgreSQL). The run is inserted once per row of
   * `source`, a CTE before them whose `"status"` is the run's verdict: none when `source` is
   * empty (the caller's conditional update did not apply), and then no issue either.
   */
  ctes(run: Omit<RunRow, 'verdict'>, source: string): Prisma.Sql {
    const from = Prisma.raw(`"${source.replace(/"/g, '')}"`);
    const issues = run.issues.length
      ? Prisma.sql`INSERT INTO "DiagnosticIssue" (${ISSUE_COLUMNS})
          SELECT "run"."id", v.* FROM "run", (VALUES ${Prisma.join(
            run.issues.map((i) => Prisma.sql`(${Prisma.join(this.issueValues(i, run.createdAt).map((v, k) => Prisma.sql`CAST(${v} AS ${Prisma.raw(ISSUE_TYPES[k]!)})`))})`),
          )}) AS v RETURNING "id"`
      : Prisma.sql`SELECT "id" FROM "run" WHERE FALSE`;
    return Prisma.sql`"run" AS (
        INSERT INTO "DiagnosticRun" (${RUN_COLUMNS})
        SELECT CAST(${run.sessionId} AS INTEGER), CAST(${run.stepIndex} AS INTEGER), CAST(${run.healthScore} AS INTEGER), CAST(${run.issues.length} AS INTEGER), ${from}."status", CAST(${run.createdAt} AS TIMESTAMP(3))
        FROM ${from} RETURNING "id"
      ),
      "issues" AS (${issues})`;
  }
}

/** PostgreSQL types of an issue's columns after `runId` (ISSUE_COLUMNS), for `ctes`. */
const ISSUE_TYPES = ['TEXT', 'TEXT', 'TEXT', 'TEXT', 'TEXT', 'TEXT', 'DOUBLE PRECISION', 'TEXT', 'INTEGER', 'TEXT', 'TEXT', 'TIMESTAMP(3)'];
