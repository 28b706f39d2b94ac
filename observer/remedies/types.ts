/**
 * Remedies as the observer receives them (issue 15): what the diagnostics propose on an issue,
 * and what a person (or an unattended observer) chose with a resume. The server's own module
 * is `server/diagnostics/remedy.ts`; these are the shapes of its GraphQL API.
 */

/** Every kind of remedy, in the order an observer applies them. */
export const REMEDY_ORDER = ['rollback', 'skip_batch', 'scale_learning_rate', 'clip_gradients'] as const;
export type RemedyKind = (typeof REMEDY_ORDER)[number];

/** A rollback's `toStep` for the state the run started with, kept by `registerModel`. */
export const START_OF_RUN = -1;

/** One remedy: its kind and parameters, why, and how sure the rules are (null when chosen by hand). */
export interface Remedy {
  kind: RemedyKind;
  /** scale_learning_rate: the factor (0.1: ten times lower). */
  factor?: number | null;
  /** clip_gradients: the largest global gradient norm. */
  maxNorm?: number | null;
  /** rollback: the newest snapshot taken at or before this step (flush) is restored; null: the newest one; -1 (`START_OF_RUN`): the state the run started with. */
  toStep?: number | null;
  /** skip_batch: the step (flush) whose loss went non-finite. */
  atStep?: number | null;
  /** skip_batch: the training step that broke, when the observer named it. */
  trainingStep?: number | null;
  /** Why, in one line ("the loss was finite and falling until the learning rate rose"). */
  reason?: string | null;
  /** 0.5-1, as for issues. */
  confidence?: number | null;
  /** What it does, in words ("roll back to step 380"). */
  summary?: string | null;
}

/** The remedies chosen with one resume, as its status event carries them. */
export interface RemedyApplication {
  /** The server's id of this choice, which the report names. */
  id: number;
  remedies: Remedy[];
}

/** What the observer did with one chosen remedy: applied or not, and how or why not. */
export interface RemedyResult {
  kind: RemedyKind;
  applied: boolean;
  detail: string;
}

/** The remedies sorted into the order they are applied: restore first, then change what broke. */
export const inApplyOrder = (remedies: readonly Remedy[]): Remedy[] => [...remedies].sort((a, b) => REMEDY_ORDER.indexOf(a.kind) - REMEDY_ORDER.indexOf(b.kind));

/** A remedy as `sessionAction(remedies:)` takes it: its kind and parameters (and the proposal's reason and confidence). */
export function remedyInput(r: Remedy): Record<string, unknown> {
  const out: Record<string, unknown> = { kind: r.kind };
  for (const k of ['factor', 'maxNorm', 'toStep', 'atStep', 'trainingStep', 'reason', 'confidence'] as const) if (r[k] != null) out[k] = r[k];
  return out;
}

const SEVERITY_RANK = { critical: 0, warning: 1, info: 2 } as const;

/**
 * The remedies of the top issue that proposes any: the most severe, then the most confident
 * (the order of the issues breaks ties). Empty when no issue proposes one.
 */
export function topRemedies<R = Remedy>(issues: readonly { severity: keyof typeof SEVERITY_RANK; confidence: number | null; remedies?: R[] | null }[]): R[] {
  const withRemedies = issues.map((issue, i) => ({ issue, i })).filter(({ issue }) => issue.remedies?.length);
  withRemedies.sort((a, b) => SEVERITY_RANK[a.issue.severity] - SEVERITY_RANK[b.issue.severity] || (b.issue.confidence ?? 0) - (a.issue.confidence ?? 0) || a.i - b.i);
  return withRemedies[0]?.issue.remedies ?? [];
}
