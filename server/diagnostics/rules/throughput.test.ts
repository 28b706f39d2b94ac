import { describe, expect, it } from 'vitest';
import { contextOf, seeded, stepsWithLoss } from './fixtures.ts';
import { throughputCollapse, verySlowThroughput } from './throughput.ts';

const withRates = (rates: number[]) => stepsWithLoss(rates.map(() => 1), (i) => ({ throughput: { samples_per_second: rates[i]! } }));

describe('throughput rules', () => {
  it('notes a run under one sample a second', () => {
    expect(verySlowThroughput(contextOf(withRates([0.5, 0.4, 0.6])))[0]).toMatchObject({ code: 'throughput.very_slow', severity: 'info' });
  });

  it('says nothing about a normal speed', () => {
    expect(verySlowThroughput(contextOf(withRates([500, 480, 510])))).toEqual([]);
  });

  it('warns when throughput falls below half its early baseline for three flushes', () => {
    const rates = [100, 1000, 1010, 990, 1005, 995, 1000, 1002, 998, 1001, 1000, 1000, 300, 310, 290];
    expect(throughputCollapse(contextOf(withRates(rates)))[0]).toMatchObject({ code: 'throughput.collapse', severity: 'warning' });
  });

  it('ignores a slow first flush (compilation) and ordinary jitter', () => {
    const r = seeded(11);
    const rates = [50, ...Array.from({ length: 60 }, () => 1000 * (0.7 + 0.6 * r()))];
    expect(throughputCollapse(contextOf(withRates(rates)))).toEqual([]);
  });

  it('ignores a single slow flush', () => {
    const rates = [...Array(12).fill(1000), 200, 1000, 1000];
    expect(throughputCollapse(contextOf(withRates(rates)))).toEqual([]);
  });
});
