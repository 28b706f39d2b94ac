import type { DiagnosticContext, Issue, LayerHealthEntry, Rule, StepRecord } from '../types.ts';
import { frozenLayer } from './layer-updates.ts';
import { confidence, fmt, isFiniteNumber, isNonFinite, issue, lastFiniteLosses, median, num, startLoss } from './util.ts';

/** The last `m` flushes (default all) that carried layer health, newest last. */
function withHealth(steps: readonly StepRecord[], m = Infinity): StepRecord[] {
  const out: StepRecord[] = [];
  for (let i = steps.length - 1; i >= 0 && out.length < m; i--) if (steps[i]!.layer_health?.layers) out.push(steps[i]!);
  return out.reverse();
}

type PerLayer = Map<string, { step: number; h: LayerHealthEntry }[]>;
const perLayerMemo = new WeakMap<readonly StepRecord[], Map<number, PerLayer>>();

/** Each layer's entries over the last `m` flushes with layer health (kept per run: five rules ask). */
function perLayer(ctx: DiagnosticContext, m: number): PerLayer {
  let byM = perLayerMemo.get(ctx.steps);
  if (!byM) perLayerMemo.set(ctx.steps, (byM = new Map()));
  const cached = byM.get(m);
  if (cached) return cached;
  const out: PerLayer = new Map();
  byM.set(m, out);
  for (const s of withHealth(ctx.steps, m)) {
    for (const [name, h] of Object.entries(s.layer_health!.layers!)) {
      if (!h || typeof h !== 'object') continue;
      let list = out.get(name);
      if (!list) out.set(name, (list = []));
      list.push({ step: s.step_index, h });
    }
  }
  return out;
}

/**
 * A per-layer state that must hold in 2 of the last 3 flushes (and the newest) to be reported.
 * `make` gets how sure the rule is: from the persistence, and from how far past its threshold
 * the newest flush is when `margin` says.
 */
function persistentLayerRule(
  test: (h: LayerHealthEntry) => boolean,
  make: (layer: string, step: number, h: LayerHealthEntry, seen: number, sure: number) => Issue,
  margin?: (h: LayerHealthEntry) => { margin: number; decisive?: number },
): Rule {
  return (ctx) => {
    const issues: Issue[] = [];
    for (const [layer, entries] of perLayer(ctx, 3)) {
      const last = entries[entries.length - 1]!;
      const seen = entries.filter((e) => test(e.h)).length;
      if (entries.length < 2 || seen < 2 || !test(last.h)) continue;
      const sure = confidence({ ...margin?.(last.h), seen, of: entries.length, minSeen: 2 });
      issues.push(make(layer, last.step, last.h, seen, sure));
    }
    return issues;
  };
}

const grad = (h: LayerHealthEntry) => num(h.gradient_norm_mean ?? undefined);
const actMean = (h: LayerHealthEntry) => num(h.activation_mean ?? undefined);
const actStd = (h: LayerHealthEntry) => num(h.activation_std ?? undefined);

/** The first layer (in the model's order) whose activations or gradients went NaN/Infinity. */
export const nonFiniteLayer: Rule = (ctx) => {
  for (const s of withHealth(ctx.steps.slice(-Math.max(ctx.newSteps, 1)))) {
    for (const [layer, h] of Object.entries(s.layer_health!.layers!)) {
      const bad = (['activation_mean', 'activation_std', 'gradient_norm_mean'] as const).find((k) => isNonFinite(num(h[k] ?? undefined)));
      if (!bad) continue;
      const value = num(h[bad] ?? undefined)!;
      return [
        issue({
          code: 'layer.non_finite',
          severity: 'critical',
          category: 'layer_health',
          title: `Non-finite values in layer ${layer}`,
          description: `Layer '${layer}' is the first with a non-finite ${bad.replace(/_/g, ' ')} (${fmt(value)}) at step ${s.step_index}.`,
          suggestion: `Look at '${layer}' first: clip gradients, lower the learning rate, guard divisions/logs/sqrt with an epsilon, and check its inputs for NaN.`,
          confidence: 1,
          layerId: layer,
          epochIndex: s.step_index,
          metricValue: { [bad]: value },
        }),
      ];
    }
  }
  return [];
};

export const deadLayer = persistentLayerRule(
  (h) => h.is_dead === true,
  (layer, step, h, seen, sure) =>
    issue({
      code: 'layer.dead',
      severity: 'warning',
      category: 'layer_health',
      title: `Dead units in layer ${layer}`,
      description: `Most units of '${layer}' were never active over the flush (reported dead in ${seen} of the last 3 flushes; activation mean ${fmt(actMean(h) ?? 0)}, std ${fmt(actStd(h) ?? 0)}).`,
      suggestion: 'Try: 1) lower the learning rate, 2) LeakyReLU/ELU instead of ReLU, 3) He initialisation with zero or small positive biases, 4) batch normalisation before the activation.',
      confidence: sure,
      layerId: layer,
      epochIndex: step,
      metricValue: { activation_mean: actMean(h) ?? null, activation_std: actStd(h) ?? null },
    }),
);

/** Below this share of the loss the run started from, the model fits its data: small gradients everywhere are convergence. */
const CONVERGED_SHARE = 0.01;

/**
 * Gradient norm under 1e-7 in 2 of the last 3 flushes, while the loss is still above 1% of
 * where the run started (a converged model's probe loss is ~0, and so are its gradients).
 */
export const vanishingGradients: Rule = (ctx) => {
  const start = startLoss(ctx);
  const now = lastFiniteLosses(ctx.steps, 1)[0]?.value;
  if (start !== undefined && now !== undefined && now < CONVERGED_SHARE * start) return [];
  return vanishingInLayers(ctx);
};

const vanishingInLayers = persistentLayerRule(
  (h) => h.has_vanishing_gradients === true || (isFiniteNumber(grad(h)) && grad(h)! < 1e-7),
  (layer, step, h, seen, sure) =>
    issue({
      code: 'layer.vanishing_gradients',
      severity: 'warning',
      category: 'layer_health',
      title: `Vanishing gradients in layer ${layer}`,
      description: `The gradient norm of '${layer}' is ${fmt(grad(h) ?? 0)} (threshold 1e-7), in ${seen} of the last 3 flushes: it barely learns.`,
      suggestion: 'Try: 1) ReLU-family activations instead of sigmoid/tanh, 2) residual connections, 3) batch or layer normalisation, 4) He/Glorot initialisation.',
      confidence: sure,
      layerId: layer,
      epochIndex: step,
      metricValue: { gradient_norm: grad(h) ?? null },
    }),
  (h) => ({ margin: 1e-7 / (grad(h) ?? 0), decisive: 100 }),
);

/** Flushes before the newest three whose median is a layer's gradient reference, at most. */
const GRADIENT_REFERENCE = 20;

/**
 * Gradient norm above 1e3, or 100x the layer's reference, in 2 of the last 3 flushes, while
 * the loss did not improve over the same flushes. The reference is the median of the layer's
 * gradient norms over up to 20 flushes before the newest three (its early median while the
 * run is shorter): a rolling reference, so a long plateau of tiny gradients before learning
 * starts does not make a healthy rise read as exploding; the absolute 1e3 catches gradients
 * that are large from step 0. A rise while the loss falls is learning, not exploding.
 */
export const explodingGradients: Rule = (ctx) => {
  const early = new Map<string, number>();
  for (const [layer, entries] of perLayerOf(ctx.early.filter((s) => s.layer_health?.layers).slice(0, 5))) {
    const g = entries.map(grad).filter(isFiniteNumber);
    if (g.length) early.set(layer, median(g));
  }
  const baseline = new Map<string, number>();
  for (const [layer, entries] of perLayer(ctx, 3 + GRADIENT_REFERENCE)) {
    const g = entries.slice(0, -3).map((e) => grad(e.h)).filter(isFiniteNumber);
    const ref = g.length >= 3 ? median(g) : early.get(layer);
    if (ref !== undefined) baseline.set(layer, ref);
  }
  const limit = (layer: string) => Math.max(Math.min(1e3, 100 * (baseline.get(layer) ?? Infinity)), 1e-3);
  const losses = lastFiniteLosses(ctx.steps, 6).map((l) => l.value);
  if (losses.length >= 6 && median(losses.slice(-3)) < 0.9 * median(losses.slice(0, 3))) return [];
  const issues: Issue[] = [];
  for (const [layer, entries] of perLayer(ctx, 3)) {
    const over = (h: LayerHealthEntry) => isFiniteNumber(grad(h)) && grad(h)! > limit(layer);
    const last = entries[entries.length - 1]!;
    const seen = entries.filter((e) => over(e.h)).length;
    if (entries.length < 2 || seen < 2 || !over(last.h)) continue;
    issues.push(
      issue({
        code: 'layer.exploding_gradients',
        severity: 'warning',
        category: 'layer_health',
        title: `Exploding gradients in layer ${layer}`,
        description: `The gradient norm of '${layer}' reached ${fmt(grad(last.h)!)} at step ${last.step} (limit ${fmt(limit(layer))}: 1e3 or 100x its reference of ${fmt(baseline.get(layer) ?? Number.NaN)}, the median over the flushes before), in ${seen} of the last ${entries.length} flushes, while the loss did not improve by 10%.`,
        suggestion: 'Try: 1) clip gradients (clipnorm=1.0), 2) lower the learning rate, 3) smaller initial weights (Glorot/He), 4) normalisation layers.',
        confidence: confidence({ margin: grad(last.h)! / limit(layer), decisive: 10, seen, of: entries.length, minSeen: 2 }),
        layerId: layer,
        epochIndex: last.step,
        metricValue: { gradient_norm: grad(last.h)!, baseline: baseline.get(layer) ?? null },
      }),
    );
  }
  return issues;
};

function perLayerOf(steps: StepRecord[]): Map<string, LayerHealthEntry[]> {
  const out = new Map<string, LayerHealthEntry[]>();
  for (const s of steps)
    for (const [name, h] of Object.entries(s.layer_health?.layers ?? {})) {
      const list = out.get(name) ?? [];
      list.push(h);
      out.set(name, list);
    }
  return out;
}

export const explodingActivations = persistentLayerRule(
  (h) => Math.max(Math.abs(actMean(h) ?? 0), Math.abs(actStd(h) ?? 0)) > 1e3,
  (layer, step, h, seen, sure) =>
    issue({
      code: 'layer.exploding_activations',
      severity: 'warning',
      category: 'layer_health',
      title: `Exploding activations in layer ${layer}`,
      description: `Activations of '${layer}' reached mean ${fmt(actMean(h) ?? 0)} / std ${fmt(actStd(h) ?? 0)} (threshold 1e3), in ${seen} of the last 3 flushes.`,
      suggestion: 'Try: 1) normalise the inputs, 2) add normalisation layers, 3) lower the learning rate, 4) smaller initial weights.',
      confidence: sure,
      layerId: layer,
      epochIndex: step,
      metricValue: { activation_mean: actMean(h) ?? null, activation_std: actStd(h) ?? null },
    }),
  (h) => ({ margin: Math.max(Math.abs(actMean(h) ?? 0), Math.abs(actStd(h) ?? 0)) / 1e3, decisive: 10 }),
);

export const sparseWeights = persistentLayerRule(
  (h) => isFiniteNumber(num(h.weight_sparsity ?? undefined)) && num(h.weight_sparsity ?? undefined)! >= 0.95,
  (layer, step, h, seen, sure) =>
    issue({
      code: 'layer.sparse_weights',
      severity: 'warning',
      category: 'layer_health',
      title: `Weights of layer ${layer} are almost all zero`,
      description: `${fmt(100 * num(h.weight_sparsity ?? undefined)!)}% of the weights of '${layer}' are below the zero threshold (limit 95%).`,
      suggestion: 'Check the initialiser (zeros/constant), strong L1 regularisation, or a pruning step gone wrong.',
      confidence: sure,
      layerId: layer,
      epochIndex: step,
      metricValue: { weight_sparsity: num(h.weight_sparsity ?? undefined)! },
    }),
  (h) => ({ margin: num(h.weight_sparsity ?? undefined)! / 0.95, decisive: 1 / 0.95 }),
);

const saturation = (h: LayerHealthEntry) => num((h.saturated_fraction as number | null | undefined) ?? undefined);
const diversity = (h: LayerHealthEntry) => num((h.unit_diversity as number | null | undefined) ?? undefined);

/** Most tanh/sigmoid outputs pinned at their limits (where the derivative is ~0), in 2 of the last 3 flushes. */
export const saturatedLayer = persistentLayerRule(
  (h) => isFiniteNumber(saturation(h)) && saturation(h)! > 0.5,
  (layer, step, h, seen, sure) =>
    issue({
      code: 'layer.saturated',
      severity: 'warning',
      category: 'layer_health',
      title: `Saturated activations in layer ${layer}`,
      description: `${fmt(100 * saturation(h)!)}% of the outputs of '${layer}' sit at the limits of its tanh/sigmoid (threshold 50%), in ${seen} of the last 3 flushes: there the derivative is ~0, so the layer barely learns.`,
      suggestion: 'Try: 1) normalise or standardise the inputs (zero mean, unit variance), 2) smaller initial weights (Glorot), 3) batch normalisation before the activation, 4) ReLU-family activations.',
      confidence: sure,
      layerId: layer,
      epochIndex: step,
      metricValue: { saturated_fraction: saturation(h)!, threshold: 0.5 },
    }),
  (h) => ({ margin: saturation(h)! / 0.5, decisive: 1.8 }),
);

/**
 * Every unit of the layer computes the same thing (constant or symmetric initialisation):
 * gradient descent cannot tell them apart, so they stay identical. Dead layers (no spread at
 * all) are left to the dead-unit rule.
 */
export const symmetricUnits = persistentLayerRule(
  (h) => isFiniteNumber(diversity(h)) && diversity(h)! < 0.01 && (actStd(h) ?? 0) > 1e-4,
  (layer, step, h, seen, sure) =>
    issue({
      code: 'layer.symmetric_units',
      severity: 'warning',
      category: 'layer_health',
      title: `All units of layer ${layer} are identical`,
      description: `On the same input the units of '${layer}' differ by ${fmt(diversity(h)!)} of the layer's spread (threshold 0.01), in ${seen} of the last 3 flushes: they were initialised alike and learn alike, so the layer acts as one unit.`,
      suggestion: 'Use a random initialiser (Glorot/He) for the weights, never a constant; zeros are fine for biases only.',
      confidence: sure,
      layerId: layer,
      epochIndex: step,
      metricValue: { unit_diversity: diversity(h)!, activation_std: actStd(h) ?? null },
    }),
  (h) => ({ margin: 0.01 / diversity(h)!, decisive: 100 }),
);

export const layerHealthRules: Rule[] = [nonFiniteLayer, deadLayer, vanishingGradients, explodingGradients, explodingActivations, sparseWeights, saturatedLayer, symmetricUnits, frozenLayer];

/**
 * Warnings that share one root cause on a layer: a dead layer also shows vanishing gradients
 * and near-zero weights. For display (the pause reason names the cause); the pause rule
 * counts each warning, as the seed says.
 */
export const ROOT_CAUSE: Record<string, keyof typeof CAUSE_WORDS> = {
  'layer.dead': 'inactive',
  'layer.vanishing_gradients': 'inactive',
  'layer.sparse_weights': 'inactive',
  'layer.exploding_gradients': 'unstable',
  'layer.exploding_activations': 'unstable',
  'layer.saturated': 'saturated',
};

/** Each root cause in words. */
export const CAUSE_WORDS = {
  inactive: 'the layer is inactive (dead units, vanishing gradients and near-zero weights go together)',
  unstable: 'the layer is unstable (exploding gradients and activations go together)',
  saturated: 'the layer is saturated',
} as const;
