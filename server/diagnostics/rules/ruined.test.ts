import { describe, expect, it } from 'vitest';
import { contextOf, modelOf, seeded, stepsWithLoss } from './fixtures.ts';
import { ruinedRun } from './ruined.ts';

const classifier = modelOf([
  ['hidden', 'Dense', 100, 'relu'],
  ['out', 'Dense', 30, 'softmax'],
]);
(classifier.architecture!.layers as Record<string, Record<string, unknown>>).out!.units = 10;

describe('ruined run rule', () => {
  it('pauses a run whose loss stays 3x above its first flushes for 3 flushes', () => {
    const steps = stepsWithLoss([2.3, 2.2, 2.4, 5, 8, 6.5, 10]);
    expect(ruinedRun(contextOf(steps))).toEqual([]);
    const [i] = ruinedRun(contextOf(stepsWithLoss([2.3, 2.2, 2.4, 8, 9, 10])));
    expect(i).toMatchObject({ code: 'loss.ruined', severity: 'critical', title: 'Training diverged' });
    expect(i!.description).toContain('3x for 3 flushes in a row');
  });

  it('pauses a classifier whose accuracy collapsed to chance after a spike of its loss (learning rate far too high on a conv net)', () => {
    const losses = [2.3, 40, 2.31, 2.303, 2.302, 2.302];
    const acc = [0.1, 0.1, 0.11, 0.1, 0.1, 0.1];
    const steps = stepsWithLoss(losses).map((s, i) => ({ ...s, loss: { ...s.loss, val: { val_loss: losses[i]!, val_accuracy: acc[i]! } } }));
    expect(ruinedRun(contextOf(steps, { model: classifier }))[0]).toMatchObject({ title: 'Training collapsed to chance', severity: 'critical' });
  });

  it('leaves a new model that has not started learning yet alone (a plateau at chance without a spike)', () => {
    const r = seeded(3);
    const losses = Array.from({ length: 30 }, () => 2.302 + 0.002 * (r() - 0.5));
    const steps = stepsWithLoss(losses).map((s) => ({ ...s, loss: { ...s.loss, val: { val_accuracy: 0.1 } } }));
    expect(ruinedRun(contextOf(steps, { model: classifier }))).toEqual([]);
  });

  it('pauses a run from scratch whose loss came back to where it started, but not a resumed one', () => {
    const steps = stepsWithLoss([2.3, 1.5, 0.9, 0.6, 0.5, 0.5, 2.2, 2.3, 2.25]);
    expect(ruinedRun(contextOf(steps))[0]?.title).toBe('Training collapsed back to where it started');
    expect(ruinedRun(contextOf(steps, { model: modelOf([], { start: 'resumed' }) }))).toEqual([]);
  });

  it('leaves a healthy noisy run alone', () => {
    const r = seeded(5);
    const losses = Array.from({ length: 100 }, (_, i) => 2.3 * Math.exp(-i / 20) + 0.1 + 0.3 * r());
    expect(ruinedRun(contextOf(stepsWithLoss(losses)))).toEqual([]);
  });
});
