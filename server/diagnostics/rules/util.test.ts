import { describe, expect, it } from 'vitest';
import { contextOf, stepsWithLoss } from './fixtures.ts';
import { noGeneralisation } from './loss.ts';
import { nonFiniteLoss } from './non-finite-loss.ts';
import { confidence, median, quantile, rollingMedian } from './util.ts';

describe('confidence', () => {
  it('runs from 0.5 at the threshold to 1 at the decisive ratio, on a log scale', () => {
    expect(confidence({ margin: 1 })).toBe(0.5);
    expect(confidence({ margin: 2 })).toBe(0.75);
    expect(confidence({ margin: 4 })).toBe(1);
    expect(confidence({ margin: 40 })).toBe(1);
    expect(confidence({ margin: 10, decisive: 100 })).toBe(0.75);
    // A threshold over zero (a zero gradient against 1e-7) is decisive; an unknown ratio adds nothing.
    expect(confidence({ margin: Infinity })).toBe(1);
    expect(confidence({ margin: Number.NaN })).toBe(0.5);
  });

  it('counts persistence from the fewest flushes a rule accepts to all of them, and averages the two kinds', () => {
    expect(confidence({ seen: 2, of: 3, minSeen: 2 })).toBe(0.5);
    expect(confidence({ seen: 3, of: 3, minSeen: 2 })).toBe(1);
    expect(confidence({ margin: 4, seen: 2, of: 3, minSeen: 2 })).toBe(0.75);
  });

  it('grows with the evidence in a rule, and is 1 for a fact', () => {
    const withVal = (val: number[]) => {
      const train = val.map((_, i) => 2.3 - 0.1 * i);
      return stepsWithLoss(train, (i) => ({ loss: { train_mean: train[i]!, num_batches: 10, val: { val_loss: val[i]! } } }));
    };
    // Validation that never moved is sure; validation nearly 5% better is not.
    const flat = noGeneralisation(contextOf(withVal(Array(12).fill(2.3))))[0]!;
    const almost = noGeneralisation(contextOf(withVal([2.3, 2.3, ...Array(10).fill(2.2)])))[0]!;
    expect(flat.confidence).toBe(1);
    expect(almost.confidence).toBeGreaterThanOrEqual(0.5);
    expect(almost.confidence).toBeLessThan(0.7);
    expect(nonFiniteLoss(contextOf(stepsWithLoss([2.3, Number.NaN])))[0]!.confidence).toBe(1);
  });
});

describe('medians', () => {
  const naive = (xs: number[]) => {
    const s = [...xs].sort((a, b) => a - b);
    return s.length % 2 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
  };

  it('of every k consecutive values match the median of each window, for odd and even k', () => {
    let seed = 7;
    const random = () => ((seed = (seed * 16807) % 2147483647) / 2147483647) * 10 - 5;
    for (const k of [1, 2, 3, 4, 5, 7]) {
      const values = Array.from({ length: 40 }, random);
      values[10] = values[11]!; // ties
      expect(rollingMedian(values, k)).toEqual(values.slice(k - 1).map((_, i) => naive(values.slice(i, i + k))));
    }
    expect(rollingMedian([1, 2], 3)).toEqual([]);
  });

  it('sort numerically (not as text) and take the nearest rank below for quantiles', () => {
    expect(median([10, 9, 100, -1])).toBe(9.5);
    expect(median([])).toBeNaN();
    expect(quantile([10, 2, 30, 4, 50], 0.9)).toBe(30);
    expect(quantile([10, 2, 30, 4, 50], 1)).toBe(50);
  });
});
