import type * as tf from '@tensorflow/tfjs';
import { clipByGlobalNorm, installClipping, type Gradients } from './clip.ts';
import { learningRateOf, setLearningRateOf } from './learning-rate.ts';
import type { SnapshotStore } from './snapshots.ts';
import { inApplyOrder, START_OF_RUN, type Remedy, type RemedyResult } from './types.ts';

/** What the applier works on: the model's variables and the optimizer, looked up when needed (a model may be compiled late). */
export interface RemedyTarget {
  variables(): tf.Variable[];
  optimizer(): tf.Optimizer | null;
  /** The snapshots kept at healthy flushes; null when `snapshots: false`. */
  snapshots: SnapshotStore | null;
}

const fmt = (x: number) => String(Number(x.toPrecision(3)));

/**
 * Applies chosen remedies to the live training, in the order restore first, then change what
 * broke (rollback, skip the batch, scale the learning rate, clip gradients), and says for each
 * whether it was applied and how, or why not. It also holds what outlives one application: the
 * learning-rate scale (for a loop whose schedule sets the rate each step) and the clipping norm.
 */
export class RemedyApplier {
  /** The product of every learning-rate factor applied so far (1: none). */
  learningRateScale = 1;
  /** The global norm gradients are clipped to, once a clip remedy was applied (null: none). */
  clipNorm: number | null = null;

  constructor(private readonly target: RemedyTarget) {}

  /** Applies the remedies and returns one result per remedy, in the order applied. */
  apply(remedies: readonly Remedy[]): RemedyResult[] {
    let restored: number | null = null;
    return inApplyOrder(remedies).map((r): RemedyResult => {
      try {
        switch (r.kind) {
          case 'rollback': {
            const res = this.restore(r.toStep ?? null, r.toStep == null ? 'the newest snapshot' : r.toStep === START_OF_RUN ? 'the start of the run' : `step ${r.toStep}`);
            if (res.applied) restored = res.step;
            return { kind: r.kind, applied: res.applied, detail: res.detail };
          }
          case 'skip_batch':
            return this.skipBatch(r, restored);
          case 'scale_learning_rate':
            return this.scaleLearningRate(r.factor ?? null);
          case 'clip_gradients':
            return this.clip(r.maxNorm ?? null);
        }
      } catch (err) {
        return { kind: r.kind, applied: false, detail: `failed: ${(err as Error).message}` };
      }
    });
  }

  /**
   * The gradients clipped by global norm to the norm a clip remedy set (new tensors; the given
   * ones are disposed), or the same gradients untouched when no clipping is on.
   */
  clipGradients<G extends Gradients>(grads: G): G {
    if (this.clipNorm === null) return grads;
    const clipped = clipByGlobalNorm(grads, this.clipNorm);
    const tensors = (g: Gradients) => (Array.isArray(g) ? g.map((x) => x.tensor) : Object.values(g));
    const keep = new Set(tensors(clipped));
    for (const t of tensors(grads)) if (!keep.has(t)) t.dispose();
    return clipped;
  }

  private restore(toStep: number | null, what: string): { applied: true; step: number; detail: string } | { applied: false; detail: string } {
    const { snapshots } = this.target;
    if (!snapshots) return { applied: false, detail: 'snapshots are off (config.snapshots: false): nothing to restore' };
    const kept = snapshots.steps;
    const optimizer = this.target.optimizer();
    const step = snapshots.restore(toStep, optimizer);
    if (step === null)
      return { applied: false, detail: kept.length ? `no snapshot at or before ${what} (kept: steps ${kept.join(', ')})` : 'no snapshot kept yet (one is taken at each flush judged healthy)' };
    const state = optimizer ? ' and the optimizer state' : ' (no optimizer registered: weights only)';
    return { applied: true, step, detail: step === START_OF_RUN ? `restored the weights${state} the run started with` : `restored the weights${state} of step ${step}` };
  }

  private skipBatch(r: Remedy, restored: number | null): RemedyResult {
    const batch = r.trainingStep != null ? `training step ${r.trainingStep}` : r.atStep != null ? `the bad batch of step ${r.atStep}` : 'the bad batch';
    if (restored !== null && (r.atStep == null || restored < r.atStep))
      return { kind: r.kind, applied: true, detail: `the rollback to step ${restored} already undid the update of ${batch}; training goes on with the next batch` };
    // Its update is already in the weights: undo it with the newest healthy state from before it.
    const before = r.atStep != null ? r.atStep - 1 : null;
    const res = this.restore(before, before === null ? 'the newest snapshot' : `step ${before}`);
    if (!res.applied) return { kind: r.kind, applied: false, detail: `cannot undo the update of ${batch}: ${res.detail}` };
    return { kind: r.kind, applied: true, detail: `${res.detail}, from before ${batch}; training goes on with the next batch` };
  }

  private scaleLearningRate(factor: number | null): RemedyResult {
    const kind = 'scale_learning_rate';
    if (factor === null || !(factor > 0) || !Number.isFinite(factor)) return { kind, applied: false, detail: `no valid factor (${String(factor)})` };
    const optimizer = this.target.optimizer();
    if (!optimizer) return { kind, applied: false, detail: 'no optimizer known: pass it to registerModel(model, { optimizer }), or compile the model' };
    const before = learningRateOf(optimizer);
    if (before === null || !setLearningRateOf(optimizer, before * factor))
      return { kind, applied: false, detail: `the optimizer (${optimizer.getClassName()}) has no learning rate the observer can change` };
    this.learningRateScale *= factor;
    return { kind, applied: true, detail: `learning rate ${fmt(before)} -> ${fmt(before * factor)} (${optimizer.getClassName()})` };
  }

  private clip(maxNorm: number | null): RemedyResult {
    const kind = 'clip_gradients';
    if (maxNorm === null || !(maxNorm > 0) || !Number.isFinite(maxNorm)) return { kind, applied: false, detail: `no valid norm (${String(maxNorm)})` };
    this.clipNorm = maxNorm;
    const optimizer = this.target.optimizer();
    if (optimizer) installClipping(optimizer, () => this.clipNorm);
    return {
      kind,
      applied: true,
      detail: optimizer
        ? `gradients clipped to a global norm of ${fmt(maxNorm)} in ${optimizer.getClassName()}.applyGradients (minimize and model.fit included)`
        : `gradients clipped to a global norm of ${fmt(maxNorm)} where the loop calls obs.clipGradients(grads) (no optimizer registered)`,
    };
  }
}
