import type { ChosenRemedy, RemedyKind } from '../diagnostics/remedy.ts';
import type { Issue } from '../diagnostics/types.ts';
import type { JsonObject, JsonValue } from '../lib/extended-json.ts';
import type { SessionStatus } from './sessions/status.ts';

/** What services return: plain objects, free of any transport's types. */

export interface ProjectView {
  id: number;
  name: string;
  createdAt: Date;
}

export interface SessionView {
  id: number;
  projectId: number;
  runId: string;
  runName: string | null;
  startedAt: Date;
  endedAt: Date | null;
  device: string | null;
  cudaAvailable: boolean | null;
  pytorchVersion: string | null;
  config: JsonObject | null;
  metadata: JsonObject | null;
  status: SessionStatus;
  /** Grows by one with every status change (the version status events carry). */
  statusVersion: number;
}

export interface ModelView {
  id: number;
  sessionId: number;
  architecture: JsonObject | null;
  hyperparameters: JsonObject | null;
  createdAt: Date;
}

/** A stored step: the seed's step record (snake_case channels) plus its ids. */
/** Chart quantities of a session's steps, one array per quantity (null where a step lacks it). */
export interface StepSeries {
  stepIndex: number[];
  trainLoss: (number | null)[];
  /** Validation metrics by name. */
  val: Record<string, (number | null)[]>;
  samplesPerSecond: (number | null)[];
  numTensors: (number | null)[];
  /** Training steps (batches) in each flush, when the client said (`loss.num_batches`): charts count training steps with it. */
  numBatches: (number | null)[];
}

export interface StepView {
  id: number;
  sessionId: number;
  stepIndex: number;
  timestamp: string | null;
  durationSeconds: number | null;
  loss: JsonObject | null;
  throughput: JsonObject | null;
  profiler: JsonObject | null;
  memory: JsonObject | null;
  system: JsonObject | null;
  layerHealth: JsonObject | null;
  sustainability: JsonObject | null;
  carbonEmissions: JsonObject | null;
  /** Channels the client sent that the seed does not name, kept verbatim. */
  extra: JsonObject | null;
  createdAt: Date;
}

export interface LogView {
  id: number;
  sessionId: number;
  ts: string | null;
  level: string;
  msg: string;
  module: string | null;
  lineno: number | null;
  kind: string;
  createdAt: Date;
}

export interface IssueView extends Required<Omit<Issue, 'metricValue' | 'confidence'>> {
  id: number;
  /** Null for issues stored before rules said how sure they were. */
  confidence: number | null;
  metricValue: JsonObject | null;
}

export interface DiagnosticRunView {
  id: number;
  sessionId: number;
  /** The newest step this run judged; null for the run made at model registration. */
  stepIndex: number | null;
  healthScore: number;
  issueCount: number;
  /** The status the session moved to because of this run. */
  verdict: SessionStatus;
  createdAt: Date;
  issues: IssueView[];
}

/** A change of a session's status, with the diagnostic run that caused it (if any). */
export interface StatusEvent {
  sessionId: number;
  status: SessionStatus;
  previousStatus: SessionStatus;
  /**
   * The session's status version after this change (it grows by one per change): a client
   * ignores an event whose version is not newer than the last one it applied.
   */
  version: number;
  /** The newest step judged when the change came from diagnostics, else the newest step recorded. */
  stepIndex: number | null;
  run: DiagnosticRunView | null;
  /** Why: `step recorded`, `diagnostics`, `action: resume`, ... */
  reason: string;
  at: Date;
  /**
   * The remedies chosen with the resume that produced this change (issue 15); absent or null
   * for any other change.
   */
  remedies?: RemedyApplicationView | null;
}

/** What an observer says it did with one chosen remedy. */
export interface RemedyResult {
  kind: RemedyKind;
  applied: boolean;
  /** Why not, or how (e.g. `restored the snapshot of step 380`). */
  detail: string | null;
}

/** Remedies chosen with one resume: who chose what, when, at which step, and what the observer made of them. */
export interface RemedyApplicationView {
  id: number;
  sessionId: number;
  /** The status version the resume produced (the `version` of its status event). */
  statusVersion: number;
  /** The newest step recorded when they were chosen. */
  stepIndex: number | null;
  /** In the order an observer applies them. */
  remedies: ChosenRemedy[];
  /** `open` (auth off), `admin`, or `key:<id>`. */
  chosenBy: string;
  /** What the client said it is (`dashboard`, `trainer`, `observer:timeout`...), if it said. */
  source: string | null;
  /** The issue keys (rule@layer) the resume went past. */
  issueKeys: string[];
  createdAt: Date;
  /** The observer's report, null until it sends one. */
  report: RemedyResult[] | null;
  reportedAt: Date | null;
}

/** A page of results, newest or oldest first as the query says, with a cursor for the next. */
export interface Page<T> {
  items: T[];
  /** Pass as `after` to get the next page; null at the end. */
  nextCursor: number | null;
}

/** Topics of the pubsub, each keyed by session id. */
export type Topics = {
  sessionStatus: StatusEvent;
  sessionSteps: StepView;
  sessionLogs: LogView;
  /** Keyed by 0: every new session, of any project. */
  sessionCreated: SessionView;
  /** Keyed by 0: an API key was revoked (every replica closes its WebSockets and forgets it). */
  apiKeyRevoked: { keyId: number };
};

export type { JsonObject, JsonValue };
