import { DomainError, ErrorCode } from '../../errors.ts';

/*
 * The session lifecycle (seed §7). Its rules are here; the status itself lives in the database
 * (TrainSession.status, statusVersion), and every change is one conditional update that bumps
 * the version and is then published with it:
 * - a person's action (TRANSITIONS below): SessionRuntime.transition, a compare-and-set on
 *   statusVersion; `resume` also acknowledges the issues that paused the run (the
 *   resumed-past issues, TrainSession.acknowledged) and may store remedies in the same transaction;
 * - running → analyzing when steps arrive: StepWriter, in the statement that stores them
 *   (only while STEP_ACCEPTING);
 * - analyzing → pending (a critical issue not acknowledged) or → running (nothing new to judge):
 *   DiagnosticsService.judgeOnce and release, in the update that commits the run, under the
 *   session's judge lease (the diagnostics-in-flight flag: judgeOwner, judgeUntil, with
 *   stepSeq and judgedSeq saying what is left to judge);
 * - running → pending before any step, for a model that cannot train: DiagnosticsService.judgeModel.
 */

/** Every status a session can be in (seed §7). */
export const SessionStatus = {
  running: 'running',
  analyzing: 'analyzing',
  pending: 'pending',
  /** Held by a person (Pause in a dashboard or the trainer); the observer waits until resumed. */
  paused: 'paused',
  stopped: 'stopped',
  completed: 'completed',
  failed: 'failed',
} as const;
export type SessionStatus = (typeof SessionStatus)[keyof typeof SessionStatus];
export const SESSION_STATUSES = Object.values(SessionStatus);

/** What a person (or a client) can ask of a session. */
export const SessionAction = { pause: 'pause', resume: 'resume', stop: 'stop', complete: 'complete', fail: 'fail' } as const;
export type SessionAction = (typeof SessionAction)[keyof typeof SessionAction];
export const SESSION_ACTIONS = Object.values(SessionAction);

const TERMINAL: ReadonlySet<SessionStatus> = new Set(['stopped', 'completed', 'failed']);
const LIVE: readonly SessionStatus[] = ['running', 'analyzing', 'pending', 'paused'];

/** The statuses each action may start from, and where it leads. */
const TRANSITIONS: Record<SessionAction, { from: readonly SessionStatus[]; to: SessionStatus }> = {
  pause: { from: ['running', 'analyzing'], to: 'paused' },
  resume: { from: ['pending', 'paused'], to: 'running' },
  stop: { from: LIVE, to: 'stopped' },
  complete: { from: LIVE, to: 'completed' },
  fail: { from: LIVE, to: 'failed' },
};

export const isTerminal = (s: SessionStatus): boolean => TERMINAL.has(s);

/**
 * Steps are accepted while training runs or its last step is being analysed, and while paused
 * (a step computed before the pause reached the client is kept, not refused).
 */
export const STEP_ACCEPTING: readonly SessionStatus[] = ['running', 'analyzing', 'paused'];
export const acceptsSteps = (s: SessionStatus): boolean => STEP_ACCEPTING.includes(s);

/**
 * The status an action leads to from `current`.
 * @throws DomainError CONFLICT naming why the action is not allowed now
 */
export function applyAction(current: SessionStatus, action: SessionAction): SessionStatus {
  const t = TRANSITIONS[action];
  if (t.from.includes(current)) return t.to;
  const why = isTerminal(current)
    ? `the session has already ended (${current})`
    : `'${action}' is allowed only from ${t.from.join(' or ')}`;
  throw new DomainError(ErrorCode.CONFLICT, `Cannot ${action} a session that is ${current}: ${why}`, {
    status: current,
    action,
  });
}
