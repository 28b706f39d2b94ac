import { describe, expect, it } from 'vitest';
import { issueKey, judge, runRules } from './engine.ts';
import type { Issue } from './types.ts';

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

  it('counts dead, vanishing and sparse on one layer as one root cause', () => {
    const v = judge([
      make({ code: 'layer.dead', layerId: 'd' }),
      make({ code: 'layer.vanishing_gradients', layerId: 'd' }),
      make({ code: 'layer.sparse_weights', layerId: 'd' }),
    ]);
    expect(v.pause).toBe(false);
    expect(v.healthScore).toBe(76);
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
