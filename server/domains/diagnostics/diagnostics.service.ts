import { PLAIN_TEXT, TX_OPTIONS, type Db, type RawText } from '../../db/client.ts';
import { issueKey, judge, MODEL_RULES, runRules, STEP_RULES, type Verdict } from '../../diagnostics/engine.ts';
import { PAGE, pageSize } from '../../lib/pagination.ts';
import { toRunView } from '../mappers.ts';
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import { Prisma } from '../../generated/prisma/client.ts';
import { RECORD_COLUMNS, toRecord, writeKeys, type RecordRow, type SessionRecord, type SessionRuntime } from '../sessions/session-runtime.ts';
import type { SessionStatus } from '../sessions/status.ts';
import type { DiagnosticRunView, Page } from '../views.ts';
import { RunWriter, type RunRow, type StoredIds } from './run-writer.ts';

/** Where an unexpected failure of a background run is reported. */
export type ErrorReporter = (err: unknown, context: string) => void;

/** How replicas share the judging of sessions. */
export interface JudgeOptions {
  /** This replica's name in the judge lease (unique per process). */
  owner?: string;
  /** How long a judge's lease lasts without renewal (ms); a replica that dies holding one is replaced after it. */
  leaseMs?: number;
  /** How often to look for sessions whose judge died (ms; 0: never, for tests that drive it). */
  sweepMs?: number;
  /** The database runs data-modifying CTEs (`OpenDatabase.writableCte`): a run's outcome then commits in one statement. */
  writableCte?: boolean;
}

type StatusRow = { status: string; statusVersion: number | bigint; judgeOwner?: string | null };

/** The record's columns, for `RETURNING`. */
const RETURNING_RECORD = Prisma.raw(RECORD_COLUMNS.map((c) => `"${c}"`).join(', '));

/**
 * Runs diagnostics off the request path, stores each run, and moves the session to `pending`
 * or back to `running`. Whichever replica stored a step, the session's steps are judged once
 * and in order: a replica judges a session only while it holds the session's lease (a
 * conditional update of `judgeOwner`), judges every step stored after the last judged one
 * (read from the database by sequence number), and lets go only when no step arrived
 * meanwhile, so a step stored while another replica judges is seen by that judge. A lease of
 * a replica that died expires; the sweep (every replica, at start and then periodically)
 * takes over sessions left `analyzing`.
 */
export class DiagnosticsService {
  private readonly inFlight = new Set<Promise<void>>();
  /** Sessions this process is judging now. */
  private readonly judging = new Set<number>();
  private readonly writer: RunWriter;
  /** How long the rules took for each of the last 1,000 runs (ms), for benchmarks and ops. */
  private readonly durations: number[] = [];
  private readonly owner: string;
  private readonly leaseMs: number;
  private readonly writableCte: boolean;
  private sweeper: NodeJS.Timeout | undefined;

  constructor(
    private readonly db: Db,
    private readonly runtime: SessionRuntime,
    private readonly reportError: ErrorReporter,
    private readonly text: RawText = PLAIN_TEXT,
    opts: JudgeOptions = {},
  ) {
    this.writer = new RunWriter(db, text);
    this.owner = opts.owner ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
    this.leaseMs = opts.leaseMs ?? 10_000;
    this.writableCte = opts.writableCte ?? false;
    const sweepMs = opts.sweepMs ?? 5_000;
    if (sweepMs > 0) {
      this.sweeper = setInterval(() => this.sweepInBackground(), sweepMs);
      this.sweeper.unref();
      setImmediate(() => this.sweepInBackground());
    }
  }

  /** A sweep that shutdown waits for (see `idle`), skipped once stopped. */
  private sweepInBackground(): void {
    if (!this.sweeper) return;
    const p: Promise<void> = this.sweep()
      .then(() => {})
      .catch((err) => this.reportError(err, 'diagnostics sweep'))
      .finally(() => this.inFlight.delete(p));
    this.inFlight.add(p);
  }

  /** Judges the session's new steps soon, here or (when another replica holds its lease) there. */
  schedule(sessionId: number): void {
    // The judge running here re-reads the session before it lets go, so it will see them.
    if (this.judging.has(sessionId)) return;
    this.judging.add(sessionId);
    const p = new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => this.judge(sessionId))
      .catch((err) => this.reportError(err, `diagnostics for session ${sessionId}`))
      .finally(() => {
        this.judging.delete(sessionId);
        this.inFlight.delete(p);
      });
    this.inFlight.add(p);
  }

  /**
   * Sessions whose judge is gone: left `analyzing` (or paused with steps not judged) with no
   * live lease, e.g. by a replica killed between storing a step and judging it.
   */
  async sweep(): Promise<number> {
    const now = Date.now();
    const rows = await this.db.$queryRaw<{ id: number | bigint }[]>`
      SELECT "id" FROM "TrainSession"
      WHERE ("status" = 'analyzing' OR ("status" = 'paused' AND "stepSeq" > "judgedSeq"))
        AND ("judgeUntil" IS NULL OR "judgeUntil" < ${now})
      ORDER BY "id" LIMIT 100`;
    for (const r of rows) this.schedule(Number(r.id));
    return rows.length;
  }

  /** Stops the periodic sweep (shutdown). */
  stop(): void {
    clearInterval(this.sweeper);
    this.sweeper = undefined;
  }

  private noteDuration(ms: number): void {
    if (this.durations.length >= 1000) this.durations.shift();
    this.durations.push(ms);
  }

  /** Percentiles of the rules' time per run over the last 1,000 runs, in ms (null before any run). */
  timings(): { runs: number; p50: number; p95: number; max: number } | null {
    if (!this.durations.length) return null;
    const sorted = [...this.durations].sort((a, b) => a - b);
    const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
    return { runs: sorted.length, p50: at(0.5), p95: at(0.95), max: sorted[sorted.length - 1]! };
  }

  /** Resolves once no run is in flight (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.inFlight.size) await Promise.allSettled([...this.inFlight]);
  }

  /** Takes the session's lease if nobody holds it (or the holder's expired): the session's record, or null. */
  private async acquire(sessionId: number): Promise<SessionRecord | null> {
    const now = Date.now();
    const [row] = await this.db.$queryRaw<RecordRow[]>`
      UPDATE "TrainSession" SET "judgeOwner" = ${this.owner}, "judgeUntil" = ${now + this.leaseMs}
      WHERE "id" = ${sessionId} AND ("judgeOwner" IS NULL OR "judgeUntil" IS NULL OR "judgeUntil" < ${now})
      RETURNING ${RETURNING_RECORD}`;
    return row ? toRecord({ ...row, acknowledged: this.decode(row.acknowledged), lastIssueKeys: this.decode(row.lastIssueKeys) }) : null;
  }

  private decode(s: string | null): string | null {
    return s === null ? null : this.text.decode(s);
  }

  private async judge(sessionId: number): Promise<void> {
    let r = await this.acquire(sessionId);
    if (!r) return;
    let held = true;
    try {
      for (;;) {
        if (r.judgedSeq >= r.stepSeq ? await this.release(r) : await this.judgeOnce(r)) return void (held = false);
        // Steps arrived, or a person changed the status meanwhile: look again (unless the lease was lost).
        r = await this.runtime.read(sessionId);
        if (r.judgeOwner !== this.owner) return void (held = false);
      }
    } finally {
      if (held)
        await this.db.trainSession
          .updateMany({ where: { id: sessionId, judgeOwner: this.owner }, data: { judgeOwner: null, judgeUntil: null } })
          .catch((err) => this.reportError(err, `releasing the diagnostics lease of session ${sessionId}`));
    }
  }

  /**
   * Lets go of the lease when no step arrived since `r` was read, settling a session left
   * `analyzing` with nothing to judge (a batch of duplicates only) back to `running`.
   */
  private async release(r: SessionRecord): Promise<boolean> {
    const [row] = await this.db.$queryRaw<StatusRow[]>`
      UPDATE "TrainSession" SET "judgeOwner" = NULL, "judgeUntil" = NULL,
        "status" = CASE WHEN "status" = 'analyzing' THEN 'running' ELSE "status" END,
        "statusVersion" = "statusVersion" + CASE WHEN "status" = 'analyzing' THEN 1 ELSE 0 END
      WHERE "id" = ${r.id} AND "judgeOwner" = ${this.owner} AND "stepSeq" = ${r.stepSeq}
      RETURNING "status", "statusVersion"`;
    if (!row) return false;
    const version = Number(row.statusVersion);
    if (version !== r.statusVersion)
      this.runtime.publishStatus({
        sessionId: r.id,
        status: row.status as SessionStatus,
        previousStatus: r.status,
        version,
        stepIndex: await this.runtime.latestStepIndex(r.id),
        run: null,
        reason: 'diagnostics',
        at: new Date(),
      });
    return true;
  }

  /**
   * One run over the steps not judged yet. Its outcome (the judged position, the issues a
   * resume acknowledges, the status) and the run commit in one transaction, only while this
   * replica holds the lease and nobody changed the status since `r` was read; the same update
   * lets go of the lease when no step arrived meanwhile. True once the lease is released.
   */
  private async judgeOnce(r: SessionRecord): Promise<boolean> {
    const { ctx, seq, latestStepIndex, bestLoss } = await this.runtime.context(r);
    const started = performance.now();
    const issues = runRules(STEP_RULES, ctx);
    const { verdict, keys, acknowledged } = verdictFor(issues, r.acknowledged);
    this.noteDuration(performance.now() - started);
    const next: SessionStatus = verdict.pause ? 'pending' : 'running';
    // Pausing settles at once; otherwise the session stays `analyzing` while newer steps wait.
    // Nothing arrived since the steps this run judged: the lease is let go in the same update.
    const caughtUp = Prisma.sql`"stepSeq" <= ${seq}`;
    const settles = Prisma.sql`"status" = 'analyzing' AND (${Prisma.raw(verdict.pause ? 'TRUE' : 'FALSE')} OR ${caughtUp})`;
    // The outcome and the run that explains it commit together: whoever sees the status can read the run.
    const createdAt = new Date();
    const update = Prisma.sql`
        UPDATE "TrainSession" SET
          "judgedSeq" = ${seq}, "judgedErrorLogs" = ${r.errorLogs},
          "acknowledged" = ${this.text.encode(writeKeys(acknowledged))}, "lastIssueKeys" = ${this.text.encode(writeKeys(keys))},
          "bestLoss" = ${bestLoss?.value ?? null}, "bestLossStep" = ${bestLoss?.stepIndex ?? null},
          "judgeOwner" = CASE WHEN ${caughtUp} THEN NULL ELSE "judgeOwner" END,
          "judgeUntil" = CASE WHEN ${caughtUp} THEN NULL ELSE CAST(${Date.now() + this.leaseMs} AS DOUBLE PRECISION) END,
          "status" = CASE WHEN ${settles} THEN ${next} ELSE "status" END,
          "statusVersion" = "statusVersion" + CASE WHEN ${settles} THEN 1 ELSE 0 END
        WHERE "id" = ${r.id} AND "judgeOwner" = ${this.owner} AND "statusVersion" = ${r.statusVersion}
        RETURNING "status", "statusVersion", "judgeOwner"`;
    const stored = { sessionId: r.id, stepIndex: latestStepIndex, healthScore: verdict.healthScore, issues: verdict.issues, createdAt };
    const committed = this.writableCte
      ? await this.commitInOneStatement(update, stored)
      : await this.db.$transaction(async (tx) => {
          const [row] = await tx.$queryRaw<StatusRow[]>`${update}`;
          if (!row) return null;
          const status = row.status as SessionStatus;
          const [ids] = await this.writer.insertIn(tx, [{ ...stored, verdict: status }]);
          return { status, version: Number(row.statusVersion), released: row.judgeOwner === null, ids: ids! };
        }, TX_OPTIONS);
    if (!committed) return false;
    this.runtime.judged(r.id, seq);
    const run = toStoredRunView(r.id, latestStepIndex, verdict, committed.status, createdAt, committed.ids);
    if (committed.version !== r.statusVersion)
      this.runtime.publishStatus({ sessionId: r.id, status: committed.status, previousStatus: r.status, version: committed.version, stepIndex: latestStepIndex, run, reason: 'diagnostics', at: new Date() });
    return committed.released;
  }

  /**
   * The outcome's update and the run it explains in one statement (PostgreSQL): the run and its
   * issues are inserted only when the update applied, with the status it left as the verdict,
   * and the session row is locked for the statement alone, not across round trips.
   */
  private async commitInOneStatement(update: Prisma.Sql, run: Omit<RunRow, 'verdict'>): Promise<{ status: SessionStatus; version: number; released: boolean; ids: StoredIds } | null> {
    const rows = await this.db.$queryRaw<{ kind: number; status: string | null; statusVersion: number | bigint | null; judgeOwner: string | null; id: number | bigint | null }[]>`
      WITH "outcome" AS (${update}), ${this.writer.ctes(run, 'outcome')}
      SELECT 0 AS "kind", "status", "statusVersion", "judgeOwner", CAST(NULL AS INTEGER) AS "id" FROM "outcome"
      UNION ALL SELECT 1, NULL, NULL, NULL, "id" FROM "run"
      UNION ALL SELECT 2, NULL, NULL, NULL, "id" FROM "issues"`;
    const outcome = rows.find((x) => Number(x.kind) === 0);
    if (!outcome) return null;
    const ids = (kind: number) => rows.filter((x) => Number(x.kind) === kind).map((x) => Number(x.id)).sort((a, b) => a - b);
    return {
      status: outcome.status as SessionStatus,
      version: Number(outcome.statusVersion),
      released: outcome.judgeOwner === null,
      ids: { id: ids(1)[0]!, issueIds: ids(2) },
    };
  }

  /** Judges a registered model's architecture; a critical finding pauses a running session before step 1. */
  async judgeModel(sessionId: number): Promise<DiagnosticRunView> {
    const r = await this.runtime.read(sessionId);
    const { ctx } = await this.runtime.context(r);
    const { verdict, keys, acknowledged } = verdictFor(runRules(MODEL_RULES, { ...ctx, newSteps: 0 }), r.acknowledged);
    const pauses = verdict.pause && r.status === 'running';
    // Stored before the status moves, so that whoever sees `pending` can read why.
    const run = await this.store(sessionId, null, verdict, pauses ? 'pending' : r.status);
    if (pauses)
      await this.runtime.transition(
        sessionId,
        (now) => (now.status === 'running' ? { to: 'pending', data: { lastIssueKeys: writeKeys(keys), acknowledged: writeKeys(acknowledged) } } : null),
        'diagnostics',
        { stepIndex: null, run },
      );
    return run;
  }

  /** Stores a run (batched with the other sessions' runs of the same moment). */
  private async store(sessionId: number, stepIndex: number | null, v: Verdict, verdict: SessionStatus): Promise<DiagnosticRunView> {
    const createdAt = new Date();
    const ids = await this.writer.insert({ sessionId, stepIndex, healthScore: v.healthScore, verdict, issues: v.issues, createdAt });
    return toStoredRunView(sessionId, stepIndex, v, verdict, createdAt, ids);
  }

  /** Runs of a session, newest first, before the cursor (a run id). */
  async runs(sessionId: number, opts: { first?: number | null; after?: number | null; withIssuesOnly?: boolean | null }): Promise<Page<DiagnosticRunView>> {
    await this.runtime.projectOf(sessionId);
    const take = pageSize(opts.first, PAGE.diagnostics);
    const rows = await this.db.diagnosticRun.findMany({
      where: { sessionId, ...(opts.after != null ? { id: { lt: opts.after } } : {}), ...(opts.withIssuesOnly ? { issueCount: { gt: 0 } } : {}) },
      orderBy: { id: 'desc' },
      take: take + 1,
      include: { issues: true },
    });
    const items = rows.slice(0, take).map(toRunView);
    return { items, nextCursor: rows.length > take ? items[items.length - 1]!.id : null };
  }

  /** The newest run of a session, or null before the first. */
  async latest(sessionId: number): Promise<DiagnosticRunView | null> {
    const row = await this.db.diagnosticRun.findFirst({ where: { sessionId }, orderBy: { id: 'desc' }, include: { issues: true } });
    return row ? toRunView(row) : null;
  }
}

/** Re-arms acknowledged issues that went away, then judges against those still acknowledged. */
function verdictFor(issues: ReturnType<typeof runRules>, acknowledgedBefore: readonly string[]): { verdict: Verdict; keys: Set<string>; acknowledged: Set<string> } {
  const keys = new Set(issues.map(issueKey));
  const acknowledged = new Set(acknowledgedBefore.filter((k) => keys.has(k)));
  return { verdict: judge(issues, acknowledged), keys, acknowledged };
}

/** The view of a run just stored, built from what was written (no read back). */
function toStoredRunView(sessionId: number, stepIndex: number | null, v: Verdict, verdict: SessionStatus, createdAt: Date, ids: StoredIds): DiagnosticRunView {
  return {
    id: ids.id,
    sessionId,
    stepIndex,
    healthScore: v.healthScore,
    issueCount: v.issues.length,
    verdict,
    createdAt,
    issues: v.issues.map((i, k) => ({
      id: ids.issueIds[k]!,
      code: i.code,
      severity: i.severity,
      category: i.category,
      title: i.title,
      description: i.description,
      suggestion: i.suggestion,
      confidence: i.confidence,
      layerId: i.layerId ?? null,
      epochIndex: i.epochIndex ?? null,
      metricValue: i.metricValue ?? null,
      remedies: i.remedies ?? [],
    })),
  };
}
