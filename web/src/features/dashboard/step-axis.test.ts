import { describe, expect, it } from 'vitest';
import { trainingStepAxis, type AxisRow } from './step-axis.ts';

const row = (stepIndex: number, numBatches: number | null): AxisRow => ({ stepIndex, loss: { numBatches } });

describe('trainingStepAxis', () => {
  it('places each flush at the training steps done by its end', () => {
    expect(trainingStepAxis([row(0, 20), row(1, 20), row(2, 5), row(3, 20)])).toEqual({ xs: [20, 40, 45, 65], unit: 'training step', exact: true });
  });

  it('counts a flush of unknown size, and a missing flush, as the median known size', () => {
    const axis = trainingStepAxis([row(0, null), row(1, null), row(3, 10), row(4, 10), row(5, 4)]);
    expect(axis.xs).toEqual([10, 20, 40, 50, 54]);
    expect(axis.exact).toBe(false);
  });

  it('falls back to flush numbers when no flush says how many steps it held', () => {
    expect(trainingStepAxis([row(0, null), { stepIndex: 1, loss: null }, row(2, 0)])).toEqual({ xs: [0, 1, 2], unit: 'flush', exact: true });
  });

  it('gives an empty axis for no steps', () => {
    expect(trainingStepAxis([]).xs).toEqual([]);
  });
});
