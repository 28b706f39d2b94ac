import { describe, expect, it } from 'vitest';
import type { Rule } from '../types.ts';
import { escalating } from './escalation.ts';
import { contextOf, stepsWithLoss } from './fixtures.ts';
import { issue } from './util.ts';

/** Warns while the newest loss is above 1, as sure as the loss is high. */
const high: Rule = (ctx) => {
  const l = ctx.steps[ctx.steps.length - 1]?.loss?.train_mean ?? 0;
  return l > 1 ? [issue({ code: 'test.high', severity: 'warning', category: 'loss', title: 'High', description: 'High.', suggestion: '-', confidence: Math.min(1, 0.5 + l / 20) })] : [];
};

describe('escalation', () => {
  it('makes a warning raised at each of the last 5 flushes, sure and not improving, critical, saying why', () => {
    const [i] = escalating(high)(contextOf(stepsWithLoss([0.5, 0.5, 5, 6, 7, 8, 9])));
    expect(i).toMatchObject({ code: 'test.high', severity: 'critical' });
    expect(i!.description).toContain('raised at each of the last 5 flushes');
  });

  it('leaves it a warning when it is new, unsure, or getting better', () => {
    expect(escalating(high)(contextOf(stepsWithLoss([0.5, 0.5, 0.5, 0.5, 6, 7, 8, 9])))[0]?.severity).toBe('warning');
    expect(escalating(high)(contextOf(stepsWithLoss([0.5, 2, 2, 2, 2, 2, 2])))[0]?.severity).toBe('warning');
    expect(escalating(high)(contextOf(stepsWithLoss([0.5, 9.5, 9.4, 9.3, 9.2, 9.1, 9])))[0]?.severity).toBe('warning');
  });

  it('keeps the rule name for the engine', () => {
    expect(escalating(high).name).toBe('high');
  });
});
