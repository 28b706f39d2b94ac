import type { Rule, StepRecord } from '../types.ts';
import { field, fmt, isFiniteNumber, issue, mad, median } from './util.ts';

const rate = (s: StepRecord): number | undefined => field(s.throughput, 'samples_per_second');

/** Under one sample a second for the last three flushes. */
export const verySlowThroughput: Rule = (ctx) => {
  const last = ctx.steps.slice(-3).map(rate);
  if (last.length < 3 || !last.every((r) => isFiniteNumber(r) && r > 0 && r < 1)) return [];
  const step = ctx.steps[ctx.steps.length - 1]!.step_index;
  return [
    issue({
      code: 'throughput.very_slow',
      severity: 'info',
      category: 'throughput',
      title: 'Very slow training speed',
      description: `Training processed ${fmt(last[2]!)} samples/s at step ${step}, under 1 sample/s for the last 3 flushes.`,
      suggestion:
        'Try: 1) a faster backend (WebGPU, then WebGL, over CPU), 2) larger batches, 3) a smaller model, 4) fewer readbacks (dataSync/data) inside the step.',
      epochIndex: step,
      metricValue: { samples_per_second: last[2]! },
    }),
  ];
};

/**
 * Throughput below half of the run's own early baseline (median of the early flushes after
 * the first, which includes compilation) for the last three flushes.
 */
export const throughputCollapse: Rule = (ctx) => {
  const baselineRates = ctx.early.slice(1).map(rate).filter(isFiniteNumber);
  if (baselineRates.length < 3 || ctx.steps.length < 3) return [];
  const base = median(baselineRates);
  const spread = mad(baselineRates);
  const recent = ctx.steps.slice(-3);
  const threshold = Math.min(0.5 * base, base - 5 * spread);
  const slow = recent.map(rate).every((r) => isFiniteNumber(r) && r < threshold);
  if (!slow || recent[0]!.step_index <= (ctx.early[ctx.early.length - 1]?.step_index ?? -1)) return [];
  const now = rate(recent[2]!)!;
  const step = recent[2]!.step_index;
  return [
    issue({
      code: 'throughput.collapse',
      severity: 'warning',
      category: 'throughput',
      title: 'Training speed dropped',
      description: `Throughput fell to ${fmt(now)} samples/s at step ${step}, ${fmt((100 * now) / base)}% of this run's early median of ${fmt(base)} (MAD ${fmt(spread)}), for the last 3 flushes.`,
      suggestion:
        'Try: 1) look for a tensor leak (memory growing) or a growing Python/JS list, 2) check other work competing for the device, 3) check for thermal throttling, 4) profile a step now and compare with the first profile.',
      epochIndex: step,
      metricValue: { samples_per_second: now, baseline_samples_per_second: base },
    }),
  ];
};

export const throughputRules: Rule[] = [verySlowThroughput, throughputCollapse];
