import type { Db, RawText } from '../../db/client.ts';
import { issueKey, judge, MODEL_RULES, runRules, STEP_RULES, type Verdict } from '../../diagnostics/engine.ts';
import type { DiagnosticContext } from '../../diagnostics/types.ts';
import { PAGE, pageSize } from '../../lib/pagination.ts';
import { toRunView } from '../mappers.ts';
import type { SessionRuntime, SessionState } from '../sessions/session-runtime.ts';
import { afterDiagnostics, type SessionStatus } from '../sessions/status.ts';
import type { DiagnosticRunView, Page } from '../views.ts';
import { RunWriter } from './run-writer.ts';

/** Where an unexpected failure of a background run is reported. */
export type ErrorReporter = (err: unknown, context: string) => void;

/**
 * Runs diagnostics off the request path, stores each run, and moves the session to
 * `pending` or back to `running`. Runs for one session never overlap: steps that arrive
 * during a run are judged by one more run right after it.
 */
export class DiagnosticsService {
  private readonly inFlight = new Set<Promise<void>>();
  private readonly writer: RunWriter;
  /** How long the rules took for each of the last 1,000 runs (ms), for benchmarks and ops. */
  private readonly durations: number[] = [];

  constructor(
    private readonly db: Db,
    private readonly runtime: SessionRuntime,
    private readonly reportError: ErrorReporter,
    text?: RawText,
  ) {
    this.writer = new RunWriter(db, text);
  }

  /** Schedules a run for the session's new steps (coalesced with one already running). */
  schedule(state: SessionState): void {
    if (state.diagnosing) {
      state.rerun = true;
      return;
    }
    state.diagnosing = true;
    const p = new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => this.loop(state))
      .catch((err) => this.reportError(err, `diagnostics for session ${state.id}`))
      .finally(() => {
        state.diagnosing = false;
        this.inFlight.delete(p);
      });
    this.inFlight.add(p);
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

  private async loop(state: SessionState): Promise<void> {
    do {
      state.rerun = false;
      const started = performance.now();
      const ctx = state.history.takeContext();
      const verdict = this.verdictFor(state, runRules(STEP_RULES, ctx));
      this.noteDuration(performance.now() - started);
      const stepIndex = state.history.latestStepIndex;
      // Steps that came in meanwhile are judged next; stay `analyzing` for them unless pausing.
      const settle = !state.rerun || verdict.pause;
      const next = settle ? afterDiagnostics(state.status, verdict.pause) : state.status;
      const run = await this.store(state.id, stepIndex, verdict, next);
      if (settle && state.status === 'analyzing') await this.runtime.transition(state, next, 'diagnostics', { stepIndex, run });
    } while (state.rerun && state.status === 'analyzing');
  }

  /** Judges a registered model's architecture; a critical finding pauses before step 1. */
  async judgeModel(state: SessionState): Promise<DiagnosticRunView> {
    const ctx: DiagnosticContext = { ...state.history.takeContext(), newSteps: 0 };
    const verdict = this.verdictFor(state, runRules(MODEL_RULES, ctx));
    const next = verdict.pause && state.status === 'running' ? 'pending' : state.status;
    const run = await this.store(state.id, null, verdict, next);
    if (next !== state.status) await this.runtime.transition(state, next, 'diagnostics', { stepIndex: null, run });
    return run;
  }

  /** Re-arms issues that went away, then judges against what the user already resumed past. */
  private verdictFor(state: SessionState, issues: ReturnType<typeof runRules>): Verdict {
    const keys = new Set(issues.map(issueKey));
    for (const k of state.acknowledged) if (!keys.has(k)) state.acknowledged.delete(k);
    state.lastIssueKeys = keys;
    return judge(issues, state.acknowledged);
  }

  /** Stores a run (batched with the other sessions' runs of the same moment). */
  private async store(sessionId: number, stepIndex: number | null, v: Verdict, verdict: SessionStatus): Promise<DiagnosticRunView> {
    const createdAt = new Date();
    const { id: runId, issueIds } = await this.writer.insert({ sessionId, stepIndex, healthScore: v.healthScore, verdict, issues: v.issues, createdAt });
    return {
      id: runId,
      sessionId,
      stepIndex,
      healthScore: v.healthScore,
      issueCount: v.issues.length,
      verdict,
      createdAt,
      issues: v.issues.map((i, k) => ({
        id: issueIds[k]!,
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
      })),
    };
  }

  /** Runs of a session, newest first, before the cursor (a run id). */
  async runs(sessionId: number, opts: { first?: number | null; after?: number | null; withIssuesOnly?: boolean | null }): Promise<Page<DiagnosticRunView>> {
    await this.runtime.state(sessionId);
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
