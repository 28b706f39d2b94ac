import type { Rule, StepRecord } from '../types.ts';
import { confidence, field, fmt, isFiniteNumber, issue, mad, median } from './util.ts';

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
      confidence: confidence({ margin: 1 / last[2]!, decisive: 10 }),
      epochIndex: step,
      metricValue: { samples_per_second: last[2]! },
    }),
  ];
};

/** How many flushes in a row must be slow: a burst of other work on a shared machine rarely lasts four. */
const SLOW_FLUSHES = 4;
/** Flushes before the slow ones that make the recent baseline. */
const RECENT_BASELINE = 10;

/** Median, MAD and the collapse threshold of a set of rates: half the median, and 5 MADs under it. */
function baselineOf(rates: number[], what: string): { base: number; spread: number; threshold: number; what: string } | undefined {
  if (rates.length < 3) return undefined;
  const base = median(rates);
  const spread = mad(rates);
  return { base, spread, threshold: Math.min(0.5 * base, base - 5 * spread), what };
}

/**
 * Throughput below half of the run's own baseline, and 5 MADs under it, for the last four
 * flushes. Two baselines, either may call it: the early flushes after the first (which
 * includes compilation), for a run that slows down gradually; and the 10 flushes before the
 * slow ones, for a run whose early flushes were still warming up (a JIT ramp makes the
 * early spread so wide that a 5x drop would stay inside it).
 */
export const throughputCollapse: Rule = (ctx) => {
  const recent = ctx.steps.slice(-SLOW_FLUSHES);
  if (recent.length < SLOW_FLUSHES || recent[0]!.step_index <= (ctx.early[ctx.early.length - 1]?.step_index ?? -1)) return [];
  const rates = recent.map(rate);
  if (!rates.every(isFiniteNumber)) return [];
  const firstIndex = ctx.early[0]?.step_index;
  const before = ctx.steps.slice(0, -SLOW_FLUSHES).filter((s) => s.step_index !== firstIndex).slice(-RECENT_BASELINE);
  const baselines = [
    baselineOf(ctx.early.slice(1).map(rate).filter(isFiniteNumber), 'early'),
    baselineOf(before.map(rate).filter(isFiniteNumber), 'recent'),
  ].filter((b) => b !== undefined);
  const hit = baselines.find((b) => rates.every((r) => r < b.threshold));
  if (!hit) return [];
  const now = rates[SLOW_FLUSHES - 1]!;
  const step = recent[SLOW_FLUSHES - 1]!.step_index;
  return [
    issue({
      code: 'throughput.collapse',
      severity: 'warning',
      category: 'throughput',
      title: 'Training speed dropped',
      description: `Throughput fell to ${fmt(now)} samples/s at step ${step}, ${fmt((100 * now) / hit.base)}% of this run's ${hit.what === 'early' ? 'early median' : `median over the ${RECENT_BASELINE} flushes before`} of ${fmt(hit.base)} (MAD ${fmt(hit.spread)}), for the last ${SLOW_FLUSHES} flushes (threshold: under half the median and 5 MADs below it).`,
      suggestion:
        'Try: 1) look for a tensor leak (memory growing) or a growing Python/JS list, 2) check other work competing for the device, 3) check for thermal throttling, 4) profile a step now and compare with the first profile.',
      confidence: confidence({ margin: hit.threshold / Math.max(...rates), decisive: 2 }),
      epochIndex: step,
      metricValue: { samples_per_second: now, baseline_samples_per_second: hit.base },
    }),
  ];
};

export const throughputRules: Rule[] = [verySlowThroughput, throughputCollapse];
