import { describe, expect, it } from 'vitest';
import { contextOf, stepsWithLoss } from './fixtures.ts';
import { wastedCompute } from './sustainability.ts';

describe('sustainability rules', () => {
  it('notes 70 flushes spent after the best loss', () => {
    const losses = [...Array.from({ length: 50 }, (_, i) => 2 - i * 0.03), ...Array(70).fill(0.6)];
    expect(wastedCompute(contextOf(stepsWithLoss(losses), { totalSteps: losses.length }))[0]).toMatchObject({
      code: 'sustainability.wasted_compute',
      severity: 'info',
    });
  });

  it('says nothing while the loss keeps improving', () => {
    const losses = Array.from({ length: 200 }, (_, i) => 2 / (1 + i));
    expect(wastedCompute(contextOf(stepsWithLoss(losses), { totalSteps: 200 }))).toEqual([]);
  });
});
