import { describe, expect, it } from 'vitest';
import { contextOf, seeded, stepsWithLoss } from './fixtures.ts';
import { throughputCollapse, throughputDecay, verySlowThroughput } from './throughput.ts';

const withRates = (rates: number[]) => stepsWithLoss(rates.map(() => 1), (i) => ({ throughput: { samples_per_second: rates[i]! } }));

describe('throughput rules', () => {
  it('notes a run under one sample a second', () => {
    expect(verySlowThroughput(contextOf(withRates([0.5, 0.4, 0.6])))[0]).toMatchObject({ code: 'throughput.very_slow', severity: 'info' });
  });

  it('says nothing about a normal speed', () => {
    expect(verySlowThroughput(contextOf(withRates([500, 480, 510])))).toEqual([]);
  });

  it('warns when throughput falls below half its early baseline for four flushes, not three', () => {
    const rates = [100, 1000, 1010, 990, 1005, 995, 1000, 1002, 998, 1001, 1000, 1000, 300, 310, 290];
    expect(throughputCollapse(contextOf(withRates(rates)))).toEqual([]);
    expect(throughputCollapse(contextOf(withRates([...rates, 305])))[0]).toMatchObject({ code: 'throughput.collapse', severity: 'warning' });
  });

  it('ignores a slow first flush (compilation) and ordinary jitter', () => {
    const r = seeded(11);
    const rates = [50, ...Array.from({ length: 60 }, () => 1000 * (0.7 + 0.6 * r()))];
    expect(throughputCollapse(contextOf(withRates(rates)))).toEqual([]);
  });

  it('warns after a warm-up ramp whose spread hides the drop from the early baseline', () => {
    // The bench's throughput-regression run: JIT warm-up for the first 10 flushes, a steady
    // ~20,000 samples/s, then a busy-wait per step from step 100 (~3,400 samples/s).
    const ramp = [820, 4684, 9767, 8354, 9392, 11224, 10855, 12851, 13490, 13533];
    const steady = [17860, 20626, 18776, 19236, 20819, 19580, 19002, 21657, 19418, 20325];
    const ctx = contextOf(withRates([...ramp, ...steady, 3371, 3392, 3337, 3392]));
    expect(throughputCollapse(ctx)[0]).toMatchObject({ code: 'throughput.collapse', });
    expect(throughputCollapse(ctx)[0]!.metricValue!.baseline_samples_per_second).toBeCloseTo(19499, 0);
    expect(throughputCollapse(contextOf(withRates([...ramp, ...steady, 3371, 3392, 3337])))).toEqual([]);
  });

  it('ignores a single slow flush', () => {
    const rates = [...Array(12).fill(1000), 200, 1000, 1000];
    expect(throughputCollapse(contextOf(withRates(rates)))).toEqual([]);
  });

  it('warns about a throughput that decays steadily over the run (host work growing with every step)', () => {
    const r = seeded(4);
    const rates = Array.from({ length: 40 }, (_, i) => (i === 0 ? 100 : 1000 / (1 + i / 15)) * (1 + 0.05 * (r() - 0.5)));
    expect(throughputDecay(contextOf(withRates(rates)))[0]).toMatchObject({ code: 'throughput.decay', severity: 'warning' });
  });

  it('leaves a flat but noisy throughput, and a single drop, to others', () => {
    const r = seeded(9);
    const noisy = Array.from({ length: 60 }, () => 1000 * (0.6 + 0.8 * r()));
    expect(throughputDecay(contextOf(withRates(noisy)))).toEqual([]);
    const step = Array.from({ length: 40 }, (_, i) => (i < 20 ? 1000 : 400) * (1 + 0.05 * (r() - 0.5)));
    expect(throughputDecay(contextOf(withRates(step)))).toEqual([]);
    // The machine got busy twice (other jobs started): a strong downward trend (tau -0.64), but in steps, flat in between.
    const twice = Array.from({ length: 40 }, (_, i) => (i < 20 ? 1000 : i < 30 ? 600 : 300));
    expect(throughputDecay(contextOf(withRates(twice)))).toEqual([]);
  });

});
