import type { Issue, LayerHealthEntry, Rule, StepRecord } from '../types.ts';
import { confidence, fmt, isFiniteNumber, issue, num } from './util.ts';

const updateRatio = (h: LayerHealthEntry) => num((h.update_ratio as number | null | undefined) ?? undefined);
const gradNorm = (h: LayerHealthEntry) => num(h.gradient_norm_mean ?? undefined);

/** Flushes with layer health looked at, and how many of them must show the layer unchanged. */
const FROZEN_WINDOW = 3;
const FROZEN_SEEN = 2;
/** A gradient this large should move a layer that is being trained. */
const MIN_GRADIENT = 1e-7;

/**
 * A layer whose trainable weights did not change at all between measurements (the observer's
 * `update_ratio` is exactly 0) in 2 of the last 3 flushes with layer health, and in the
 * newest, while the loss gives it a gradient (above 1e-7) and other layers do move: the
 * optimizer never updates it. In a hand-written loop, a variable left out of the optimizer's
 * variable list; with model.fit, a layer frozen after compiling. A dead layer (no gradient)
 * and a run whose learning rate is 0 (nothing moves) are left to their own rules.
 */
export const frozenLayer: Rule = (ctx) => {
  const flushes: StepRecord[] = [];
  for (let i = ctx.steps.length - 1; i >= 0 && flushes.length < FROZEN_WINDOW; i--) {
    const layers = ctx.steps[i]!.layer_health?.layers;
    if (layers && Object.values(layers).some((h) => h && isFiniteNumber(updateRatio(h)))) flushes.push(ctx.steps[i]!);
  }
  if (flushes.length < FROZEN_SEEN) return [];
  flushes.reverse();
  const newest = flushes[flushes.length - 1]!;
  const layers = newest.layer_health!.layers!;
  const moving = Object.entries(layers).filter(([, h]) => h && (updateRatio(h) ?? 0) > 0);
  if (!moving.length) return [];
  const issues: Issue[] = [];
  for (const [layer, h] of Object.entries(layers)) {
    const still = (x: LayerHealthEntry | undefined) => x !== undefined && updateRatio(x) === 0 && (gradNorm(x) ?? 0) > MIN_GRADIENT;
    if (!still(h)) continue;
    const seen = flushes.filter((s) => still(s.layer_health!.layers![layer])).length;
    if (seen < FROZEN_SEEN) continue;
    const others = moving.map(([, m]) => updateRatio(m)!).sort((a, b) => a - b);
    const typical = others[others.length >> 1]!;
    issues.push(
      issue({
        code: 'layer.frozen',
        severity: 'warning',
        category: 'layer_health',
        title: `Layer ${layer} never changes`,
        description: `The trainable weights of '${layer}' did not change at all (update ratio 0, threshold: exactly 0) in ${seen} of the last ${flushes.length} flushes with layer health, up to step ${newest.step_index}, although its gradient norm is ${fmt(gradNorm(h)!)} (above ${fmt(MIN_GRADIENT)}) and the other layers moved by ${fmt(typical)} of their norm (median of ${others.length}).`,
        suggestion: `Check that '${layer}''s variables are in the optimizer's variable list (optimizer.minimize(f, true, varList) or applyGradients), and that the layer was not frozen (layer.trainable = false) by mistake; if it is frozen on purpose, mark it non-trainable so it is not reported.`,
        confidence: confidence({ seen, of: flushes.length, minSeen: FROZEN_SEEN, margin: typical / 1e-6, decisive: 1e3 }),
        layerId: layer,
        epochIndex: newest.step_index,
        metricValue: { update_ratio: 0, gradient_norm: gradNorm(h)!, others_update_ratio: typical },
      }),
    );
  }
  return issues;
};
