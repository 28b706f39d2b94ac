import { describe, expect, it } from 'vitest';
import { issueKey, judge, runRules, STEP_RULES, type Verdict } from './engine.ts';
import { SessionHistory } from './history.ts';
import { stepsWithLoss } from './rules/fixtures.ts';
import type { Issue, LayerHealthEntry } from './types.ts';

const make = (over: Partial<Issue>): Issue => ({
  code: 'x', severity: 'warning', category: 'loss', title: 't', description: 'd', suggestion: 's', confidence: 1, layerId: null, ...over,
});

describe('diagnostics verdict', () => {
  it('pauses on any critical issue', () => {
    const v = judge([make({ severity: 'critical', title: 'Loss is NaN' })]);
    expect(v).toMatchObject({ pause: true, pauseReason: 'critical: Loss is NaN', healthScore: 75 });
  });

  it('pauses on three warnings of different causes on one layer', () => {
    const v = judge([
      make({ code: 'layer.dead', layerId: 'd' }),
      make({ code: 'layer.exploding_gradients', layerId: 'd' }),
      make({ code: 'layer.custom', layerId: 'd' }),
    ]);
    expect(v.pause).toBe(true);
  });

  it('pauses on three warnings on one layer even when they share a root cause, and names the cause', () => {
    const v = judge([
      make({ code: 'layer.dead', layerId: 'd' }),
      make({ code: 'layer.vanishing_gradients', layerId: 'd' }),
      make({ code: 'layer.sparse_weights', layerId: 'd' }),
    ]);
    expect(v).toMatchObject({ pause: true, healthScore: 76 });
    expect(v.pauseReason).toBe('3 warnings on layer d (layer.dead, layer.vanishing_gradients, layer.sparse_weights; one root cause: the layer is inactive (dead units, vanishing gradients and near-zero weights go together))');
  });

  it('does not pause on two warnings on one layer, three spread over layers, or warnings without a layer', () => {
    expect(judge([make({ code: 'layer.dead', layerId: 'd' }), make({ code: 'layer.vanishing_gradients', layerId: 'd' })]).pause).toBe(false);
    expect(judge([make({ code: 'layer.dead', layerId: 'a' }), make({ code: 'layer.dead', layerId: 'b' }), make({ code: 'layer.dead', layerId: 'c' })]).pause).toBe(false);
    expect(judge([make({ code: 'loss.plateau' }), make({ code: 'loss.oscillating' }), make({ code: 'throughput.slow' })]).pause).toBe(false);
    // Info issues on a layer are not warnings.
    expect(judge([make({ code: 'layer.dead', layerId: 'd' }), make({ code: 'layer.saturated', layerId: 'd' }), make({ code: 'layer.x', layerId: 'd', severity: 'info' })]).pause).toBe(false);
  });

  it('does not count a warning the user resumed past towards the three', () => {
    const three = [make({ code: 'layer.dead', layerId: 'd' }), make({ code: 'layer.vanishing_gradients', layerId: 'd' }), make({ code: 'layer.sparse_weights', layerId: 'd' })];
    expect(judge(three, new Set([issueKey(three[0]!)])).pause).toBe(false);
    expect(judge([...three, make({ code: 'layer.saturated', layerId: 'd' })], new Set([issueKey(three[0]!)])).pause).toBe(true);
  });

  it('does not pause again for a critical issue the user resumed past', () => {
    const nan = make({ code: 'loss.non_finite', severity: 'critical' });
    expect(judge([nan], new Set([issueKey(nan)])).pause).toBe(false);
  });

  it('reports a rule that throws instead of failing the run', () => {
    const broken = () => {
      throw new Error('boom');
    };
    const issues = runRules([broken], { steps: [], newSteps: 0, early: [], totalSteps: 0, bestLoss: null, model: null, errorLogs: { sinceLastRun: 0, total: 0, recentMessages: [] } });
    expect(issues[0]).toMatchObject({ code: 'diagnostics.rule_failed', severity: 'info' });
  });
});

const healthy: LayerHealthEntry = { activation_mean: 0.4, activation_std: 0.3, gradient_norm_mean: 0.01, weight_sparsity: 0.01, is_dead: false, has_vanishing_gradients: false };
/** A layer reported dead, with vanishing gradients and 99% zero weights, as the observers send it. */
const deadVanishingSparse: Partial<LayerHealthEntry> = { activation_mean: 0, activation_std: 0, gradient_norm_mean: 1e-9, weight_sparsity: 0.99, is_dead: true, has_vanishing_gradients: true };

/**
 * Three flushes of a run whose layers stay as given (over a flat loss), each judged by the real
 * step rules as the diagnostics service does: issues that went away are re-armed, and the user
 * resumes past every pause.
 */
function threeFlushes(layers: Record<string, Partial<LayerHealthEntry>>): { verdicts: Verdict[]; warnings: string[][] } {
  const records = stepsWithLoss([2.3, 2.29, 2.3], () => ({
    layer_health: { layers: Object.fromEntries(Object.entries(layers).map(([name, h]) => [name, { ...healthy, ...h }])) },
  }));
  const history = new SessionHistory();
  const acknowledged = new Set<string>();
  const verdicts = records.map((record) => {
    history.add(record);
    const issues = runRules(STEP_RULES, history.takeContext());
    const keys = new Set(issues.map(issueKey));
    for (const k of acknowledged) if (!keys.has(k)) acknowledged.delete(k);
    const verdict = judge(issues, acknowledged);
    if (verdict.pause) for (const k of keys) acknowledged.add(k);
    return verdict;
  });
  const warnings = verdicts.map((v) => v.issues.filter((i) => i.severity === 'warning').map(issueKey).sort());
  return { verdicts, warnings };
}

describe('three warnings on one layer, from the real rules over flushes', () => {
  it('pauses when a layer is reported dead, with vanishing gradients and 99% zero weights, and not again once resumed past', () => {
    const { verdicts, warnings } = threeFlushes({ dense_1: deadVanishingSparse, out: {} });
    // One flush is not yet persistent: the layer rules wait for a second.
    expect(verdicts[0]).toMatchObject({ pause: false, issues: [] });
    const three = ['layer.dead@dense_1', 'layer.sparse_weights@dense_1', 'layer.vanishing_gradients@dense_1'];
    expect(warnings.slice(1)).toEqual([three, three]);
    expect(verdicts[1]!.pause).toBe(true);
    expect(verdicts[1]!.pauseReason).toMatch(/^3 warnings on layer dense_1 \(.*one root cause: the layer is inactive/);
    // The user resumed at the second flush: the same three warnings do not pause again...
    expect(verdicts[2]!.pause).toBe(false);
    // ...but the third flush on its own is reason to pause, as the seed's client expects.
    expect(judge(verdicts[2]!.issues).pause).toBe(true);
  });

  it('does not pause on two warnings on one layer', () => {
    const { verdicts, warnings } = threeFlushes({ dense_1: { ...deadVanishingSparse, weight_sparsity: 0.01 }, out: {} });
    expect(warnings[2]).toEqual(['layer.dead@dense_1', 'layer.vanishing_gradients@dense_1']);
    expect(verdicts.map((v) => v.pause)).toEqual([false, false, false]);
  });

  it('does not pause on three warnings on three different layers', () => {
    const { verdicts, warnings } = threeFlushes({
      a: { is_dead: true, activation_mean: 0, activation_std: 0 },
      b: { has_vanishing_gradients: true, gradient_norm_mean: 1e-9 },
      c: { weight_sparsity: 0.99 },
    });
    expect(warnings[2]).toEqual(['layer.dead@a', 'layer.sparse_weights@c', 'layer.vanishing_gradients@b']);
    expect(verdicts.map((v) => v.pause)).toEqual([false, false, false]);
  });
});
