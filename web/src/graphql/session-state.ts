/**
 * A session's state on the dashboard, as pure functions: the history its query loaded, what
 * each subscription collected since (urql's `useSubscription` handlers), and the view that
 * combines them. Free of React and of the transports, so it is tested with literal events.
 */
import type { Application, LogRow, Run, SessionData, Status, StepRow } from './queries.ts';

/** What the Session query (and the pages and gap fetches after it) loaded. */
export interface History {
  session: SessionData | null;
  steps: StepRow[];
  runs: Run[];
  logs: LogRow[];
  /** Remedies chosen with resumes, oldest first. */
  applications: Application[];
  error: string | null;
}

/** What changes the history: the session query's answer, more steps (pages, gap fetches), an error. */
export type HistoryAction =
  | { type: 'loaded'; session: SessionData; steps: StepRow[]; runs: Run[]; logs: LogRow[]; applications: Application[] }
  | { type: 'steps'; steps: StepRow[] }
  | { type: 'applications'; applications: Application[] }
  | { type: 'error'; error: string };

/** Before the session query answers. */
export const EMPTY_HISTORY: History = { session: null, steps: [], runs: [], logs: [], applications: [], error: null };

/** The most log lines the page keeps. */
export const LOG_LIMIT = 1000;

/** Steps by index, `b` winning over `a` for an index both hold (a re-fetch may overlap). */
export function mergeSteps(a: StepRow[], b: StepRow[]): StepRow[] {
  if (!b.length) return a;
  const last = a.length ? a[a.length - 1]!.stepIndex : -1;
  if (b.every((s, i) => s.stepIndex > last && (i === 0 || s.stepIndex > b[i - 1]!.stepIndex))) return [...a, ...b];
  const byIndex = new Map(a.map((s) => [s.stepIndex, s]));
  for (const s of b) byIndex.set(s.stepIndex, s);
  return [...byIndex.values()].sort((x, y) => x.stepIndex - y.stepIndex);
}

/** The history's reducer (`useReducer`). */
export function reduceHistory(state: History, action: HistoryAction): History {
  switch (action.type) {
    case 'loaded':
      // Pages and gap fetches that landed first keep their steps.
      return { session: action.session, steps: mergeSteps(action.steps, state.steps), runs: action.runs, logs: action.logs, applications: action.applications, error: null };
    case 'steps':
      return { ...state, steps: mergeSteps(state.steps, action.steps) };
    case 'applications':
      return { ...state, applications: action.applications };
    case 'error':
      return { ...state, error: action.error };
  }
}

/** What the step subscription collected: the new steps, and the gaps it reported. */
export interface LiveSteps {
  steps: StepRow[];
  /** Events that said steps were dropped before them (a lagging subscriber). */
  gaps: number;
  /** The newest step index seen before the latest gap: re-fetch after it. */
  gapAfter: number;
}

/** A step event as the subscription delivers it. */
export interface StepEventData {
  sessionSteps: { missedBefore: number; step: StepRow };
}

/** The `useSubscription` handler of the step events. */
export function collectSteps(prev: LiveSteps | undefined, event: StepEventData): LiveSteps {
  const live = prev ?? { steps: [], gaps: 0, gapAfter: -1 };
  const { missedBefore, step } = event.sessionSteps;
  const gap = missedBefore > 0 ? { gaps: live.gaps + 1, gapAfter: live.steps.at(-1)?.stepIndex ?? -1 } : {};
  return { ...live, ...gap, steps: mergeSteps(live.steps, [step]) };
}

/** What the status subscription collected: the newest change, and the runs with issues it brought. */
export interface LiveStatus {
  status: Status;
  version: number;
  run: Run | null;
  /** Runs with issues, newest first. */
  runs: Run[];
  /** Remedies chosen with the resumes it announced, oldest first. */
  applications: Application[];
}

/** A status event as the subscription delivers it. */
export interface StatusEventData {
  sessionStatus: { status: Status; version: number; run: Run | null; remedies?: Application | null };
}

/** The `useSubscription` handler of the status events; an event older than the one applied is ignored. */
export function collectStatus(prev: LiveStatus | undefined, event: StatusEventData): LiveStatus {
  const { status, version, run, remedies } = event.sessionStatus;
  if (prev && version <= prev.version) return prev;
  const runs = prev?.runs ?? [];
  const withRun = run && run.issues.length && !runs.some((r) => r.id === run.id) ? [run, ...runs] : runs;
  const applications = prev?.applications ?? [];
  const withApplication = remedies && !applications.some((a) => a.id === remedies.id) ? [...applications, remedies] : applications;
  return { status, version, run, runs: withRun, applications: withApplication };
}

/** A log event as the subscription delivers it. */
export interface LogEventData {
  sessionLogs: { log: LogRow };
}

/** The `useSubscription` handler of the log events: the newest {@link LOG_LIMIT} lines. */
export function collectLogs(prev: LogRow[] | undefined, event: LogEventData): LogRow[] {
  return [...(prev ?? []).slice(-(LOG_LIMIT - 1)), event.sessionLogs.log];
}

/** The session as the page shows it. */
export interface SessionView {
  session: SessionData | null;
  steps: StepRow[];
  runs: Run[];
  logs: LogRow[];
  /** The run whose issues hold the session pending, when it is. */
  pending: Run | null;
  /** Remedies chosen with resumes, oldest first (loaded, then live). */
  applications: Application[];
  error: string | null;
}

/** History, then what arrived live after it: newer steps, logs and runs, and the status if newer. */
export function combineSession(history: History, live: { steps?: LiveSteps | undefined; status?: LiveStatus | undefined; logs?: LogRow[] | undefined }): SessionView {
  const lastStep = history.steps.at(-1)?.stepIndex ?? -1;
  const newSteps = (live.steps?.steps ?? []).filter((s) => s.stepIndex > lastStep);
  const steps = newSteps.length ? [...history.steps, ...newSteps] : history.steps;
  const lastLog = history.logs.at(-1)?.id ?? -1;
  const newLogs = (live.logs ?? []).filter((l) => l.id > lastLog);
  const logs = newLogs.length ? [...history.logs, ...newLogs].slice(-LOG_LIMIT) : history.logs;
  const liveRuns = (live.status?.runs ?? []).filter((r) => !history.runs.some((h) => h.id === r.id));
  const runs = liveRuns.length ? [...liveRuns, ...history.runs] : history.runs;
  let session = history.session;
  const status = live.status;
  if (session && status && status.version > session.statusVersion) {
    const latestDiagnostics = status.run ? { healthScore: status.run.healthScore, issueCount: status.run.issues.length } : session.latestDiagnostics;
    session = { ...session, status: status.status, statusVersion: status.version, latestDiagnostics };
  }
  const pendingRun = status?.run?.issues.length ? status.run : (runs[0] ?? null);
  const liveApplications = (live.status?.applications ?? []).filter((a) => !history.applications.some((h) => h.id === a.id));
  const applications = liveApplications.length ? [...history.applications, ...liveApplications] : history.applications;
  return { session, steps, runs, logs, pending: session?.status === 'pending' ? pendingRun : null, applications, error: history.error };
}
