import type { DiagnosticContext, ModelInfo, StepRecord } from '../types.ts';
import { finiteLosses } from './util.ts';

/** Steps with the given train losses (and any extra channels from `extra(i)`), indexes from 0. */
export function stepsWithLoss(losses: readonly number[], extra: (i: number) => Partial<StepRecord> = () => ({})): StepRecord[] {
  return losses.map((l, i) => ({ step_index: i, loss: { train_mean: l, train_min: l, train_max: l, num_batches: 10 }, ...extra(i) }));
}

/** A context as the engine builds it, for rule tests. */
export function contextOf(steps: StepRecord[], over: Partial<DiagnosticContext> = {}): DiagnosticContext {
  const losses = finiteLosses(steps);
  const best = losses.reduce<{ value: number; stepIndex: number } | null>(
    (b, l) => (b === null || l.value < b.value ? { value: l.value, stepIndex: l.step } : b),
    null,
  );
  return {
    steps,
    newSteps: 1,
    early: steps.slice(0, 10),
    totalSteps: steps.length,
    bestLoss: best,
    model: null,
    errorLogs: { sinceLastRun: 0, total: 0, recentMessages: [] },
    ...over,
  };
}

/** A model with the given layers (name, type, parameters, activation). */
export function modelOf(
  layers: [name: string, type: string, params: number, activation?: string][],
  hyperparameters: ModelInfo['hyperparameters'] = {},
): ModelInfo {
  const total = layers.reduce((s, l) => s + l[2], 0);
  return {
    architecture: {
      total_parameters: total,
      layers: Object.fromEntries(
        layers.map(([name, type, parameters, activation]) => [
          name,
          { type, parameters, pct_of_total: total ? (100 * parameters) / total : 0, ...(activation ? { activation } : {}) },
        ]),
      ),
    },
    hyperparameters,
  };
}

/** A deterministic pseudo-random stream for noisy but healthy series. */
export function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}
