import { describe, expect, it } from 'vitest';
import type { StepRecord } from '../types.ts';
import { contextOf, stepsWithLoss } from './fixtures.ts';
import { learningRateFarOff, standing, usualRate } from './learning-rate.ts';

/** Flushes of 10 steps each with the given losses, trained at `rate` with `optimizer` (per flush when a function). */
const run = (losses: number[], optimizer: string, rate: number | ((i: number) => number)): StepRecord[] =>
  stepsWithLoss(losses, (i) => ({ observer: { learning_rate: typeof rate === 'number' ? rate : rate(i), optimizer } }));

describe("a learning rate far outside its optimizer's usual range", () => {
  it('knows the usual ranges by the names clients give', () => {
    expect(usualRate('SGD')?.typical).toBe(0.1);
    expect(usualRate('AdamOptimizer')?.name).toBe('Adam');
    expect(usualRate('rmsprop')?.name).toBe('RMSProp');
    expect(usualRate('Momentum')?.name).toBe('SGD with momentum');
    expect(usualRate('Lamb')).toBeUndefined();
    // "Far": 10x past either end of the range.
    expect(standing(9, 'SGD')?.side).toBe('usual');
    expect(standing(11, 'SGD')?.side).toBe('high');
    expect(standing(5e-7, 'Adam')?.side).toBe('low');
  });

  it('pauses a run whose rate was far too high from the first flush and whose loss has not learned', () => {
    const steps = run([2.3, 2.31, 2.3], 'SGD', 30);
    const [issue] = learningRateFarOff(contextOf(steps));
    expect(issue).toMatchObject({ code: 'loss.learning_rate_too_high', severity: 'critical', category: 'loss', epochIndex: 2 });
    expect(issue!.description).toContain("SGD's learning rate is 30 and has been far from its usual range since the first flush, 30x above the highest usual rate");
    expect(issue!.metricValue).toMatchObject({ learning_rate: 30, typical: 0.1 });
  });

  it('pauses a run from scratch whose rate is far too low and whose loss does not move', () => {
    const [issue] = learningRateFarOff(contextOf(run([2.3, 2.3, 2.3], 'Adam', 3e-7)));
    expect(issue).toMatchObject({ code: 'loss.learning_rate_too_low', severity: 'critical' });
    expect(issue!.confidence).toBeGreaterThan(0.7);
  });

  it('leaves a fine-tuning run at a tiny rate alone (it may start at its floor on purpose)', () => {
    const steps = run([0.4, 0.4, 0.4], 'Adam', 3e-7);
    expect(learningRateFarOff(contextOf(steps, { model: { architecture: null, hyperparameters: { start: 'fine_tuned' } } }))).toEqual([]);
  });

  it('says nothing while the loss learns, while the rate changes (a warmup), within the range, or before 2 flushes and 10 steps', () => {
    expect(learningRateFarOff(contextOf(run([2.3, 1.5, 1.0], 'SGD', 30)))).toEqual([]);
    // A warmup from tiny rates: nothing while it rises; once it ends far below the range, the rate is the cause.
    expect(learningRateFarOff(contextOf(run([2.3, 2.3, 2.3], 'Adam', (i) => 1e-8 * 10 ** i)))).toEqual([]);
    expect(learningRateFarOff(contextOf(run([2.3, 2.3, 2.3, 2.3, 2.3], 'Adam', (i) => 1e-8 * 2 ** Math.min(i, 3))))[0]?.code).toBe('loss.learning_rate_too_low');
    expect(learningRateFarOff(contextOf(run([2.3, 2.3, 2.3, 2.3], 'Adam', (i) => 1e-6 * 10 ** Math.min(i, 3))))).toEqual([]);
    expect(learningRateFarOff(contextOf(run([2.3, 2.3, 2.3], 'Adam', 1e-3)))).toEqual([]);
    expect(learningRateFarOff(contextOf(run([2.3], 'SGD', 30)))).toEqual([]);
    const short = run([2.3, 2.3], 'SGD', 30).map((s) => ({ ...s, loss: { ...s.loss, num_batches: 2 } }));
    expect(learningRateFarOff(contextOf(short))).toEqual([]);
  });

  it('ends when the rate comes into the range (a remedy applied)', () => {
    const steps = run([2.3, 2.3, 2.3, 2.3], 'SGD', (i) => (i < 3 ? 30 : 0.1));
    expect(learningRateFarOff(contextOf(steps))).toEqual([]);
  });

  it("takes a client that sends no rate at its hyperparameters' word", () => {
    const steps = stepsWithLoss([2.3, 2.3, 2.3]);
    const [issue] = learningRateFarOff(contextOf(steps, { model: { architecture: null, hyperparameters: { optimizer: 'sgd', learning_rate: 1e-6 } } }));
    expect(issue?.code).toBe('loss.learning_rate_too_low');
    expect(learningRateFarOff(contextOf(steps))).toEqual([]);
  });
});
