/**
 * Remedies: what an issue proposes to do to the live training, in a form an observer can
 * apply (issue 15), beside the prose `suggestion`.
 *
 * An issue's remedies are one fix, meant to be applied together (a person may pick a subset);
 * an observer applies them in `REMEDY_ORDER`: first restore the last good state, then change
 * what produced the fault.
 */

/** Every kind of remedy. */
export const RemedyKind = {
  /** Multiply the optimizer's learning rate by `factor` (0.1: ten times lower). */
  scaleLearningRate: 'scale_learning_rate',
  /** Clip the gradients by their global norm to at most `maxNorm`. */
  clipGradients: 'clip_gradients',
  /**
   * Restore the weights and optimizer state kept at the last good state: the newest snapshot
   * taken at or before step `toStep` (null: the newest snapshot the observer kept; -1,
   * `START_OF_RUN`: the state the run started with, kept when the model was registered).
   */
  rollback: 'rollback',
  /**
   * Skip the batch whose loss went non-finite (flush `atStep`, training step `trainingStep`
   * when the observer named it): its weight update is dropped, and training goes on with the
   * next batch instead of replaying it.
   */
  skipBatch: 'skip_batch',
} as const;
export type RemedyKind = (typeof RemedyKind)[keyof typeof RemedyKind];
export const REMEDY_KINDS = Object.values(RemedyKind);

/** A rollback's `toStep` for the state the run started with (before its first flush). */
export const START_OF_RUN = -1;

/** The order in which an observer applies a set of remedies. */
const REMEDY_ORDER: readonly RemedyKind[] = ['rollback', 'skip_batch', 'scale_learning_rate', 'clip_gradients'];

/** What a remedy does, with its parameters. */
export type RemedyAction =
  | { kind: 'scale_learning_rate'; factor: number }
  | { kind: 'clip_gradients'; maxNorm: number }
  | { kind: 'rollback'; toStep: number | null }
  | { kind: 'skip_batch'; atStep: number | null; trainingStep: number | null };

/** A remedy a rule proposes: the action, why in one line, and how sure the rule is (0.5-1, as for issues). */
export type Remedy = RemedyAction & { reason: string; confidence: number };

/**
 * A remedy a person (or an unattended observer) chose with a resume: the proposal's reason
 * and confidence when picked from one, null when written by hand.
 */
export type ChosenRemedy = RemedyAction & { reason: string | null; confidence: number | null };

/** Bounds of the parameters, for proposals and for what clients send alike. */
export const REMEDY_LIMITS = {
  /** A learning-rate factor from 1e-4 to 1e4 (not 1: that changes nothing). */
  minFactor: 1e-4,
  maxFactor: 1e4,
  /** A clipping norm above 0, at most 1e6. */
  maxNorm: 1e6,
  /** At most this many remedies with one resume (one of each kind). */
  maxPerResume: REMEDY_KINDS.length,
} as const;

/** Sorts remedies into the order an observer applies them. */
export function inApplyOrder<R extends RemedyAction>(remedies: readonly R[]): R[] {
  return [...remedies].sort((a, b) => REMEDY_ORDER.indexOf(a.kind) - REMEDY_ORDER.indexOf(b.kind));
}

/** One line naming what a remedy does, e.g. `roll back to step 380`, `lower the learning rate 10x`. */
export function describeAction(a: RemedyAction): string {
  switch (a.kind) {
    case 'scale_learning_rate':
      return a.factor < 1 ? `lower the learning rate ${fmtFactor(1 / a.factor)}x` : `raise the learning rate ${fmtFactor(a.factor)}x`;
    case 'clip_gradients':
      return `clip gradients to a global norm of ${a.maxNorm}`;
    case 'rollback':
      return a.toStep === null ? 'roll back to the last good state' : a.toStep === START_OF_RUN ? 'roll back to the start of the run' : `roll back to step ${a.toStep}`;
    case 'skip_batch':
      return a.trainingStep !== null ? `skip the batch of training step ${a.trainingStep}` : a.atStep !== null ? `skip the bad batch of step ${a.atStep}` : 'skip the bad batch';
  }
}

const fmtFactor = (f: number): string => String(Number(f.toPrecision(3)));
