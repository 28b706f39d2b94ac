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

/** Flushes at least, and the trend's strength (Kendall's tau against time), for a gradual decay. */
const DECAY_MIN_FLUSHES = 12;
const DECAY_TAU = -0.6;
/** The recent median must be under this share of the reference. */
const DECAY_SHARE = 0.67;

/** Kendall's tau of a series against its order: -1 when it falls at every pair of flushes, 0 with no trend. */
function kendallTau(xs: readonly number[]): number {
  let concordant = 0;
  let pairs = 0;
  for (let i = 0; i < xs.length; i++)
    for (let j = i + 1; j < xs.length; j++) {
      const d = Math.sign(xs[j]! - xs[i]!);
      concordant += d;
      pairs++;
    }
  return pairs ? concordant / pairs : 0;
}

/**
 * Throughput decaying over the whole run: the median of the last 4 flushes under 67% of the
 * run's reference (the median of its early flushes after the first two, which include
 * compilation), with a steady downward trend (Kendall's tau of the window's rates against
 * time at most -0.6, over at least 12 flushes) that is gradual (each quarter of the window's
 * median below the one before: a step down when the machine got busy is flat on either side).
 * Per-step host work that grows with the run
 * (a list scanned every step, a history kept on the device) slows every step a little more:
 * no single drop for the collapse rule to see. Contention on a shared machine comes and goes
 * and does not make a steady trend.
 */
export const throughputDecay: Rule = (ctx) => {
  const series = ctx.steps.map((s) => ({ step: s.step_index, r: rate(s) })).filter((p): p is { step: number; r: number } => isFiniteNumber(p.r) && p.r > 0);
  const warm = ctx.early[1]?.step_index ?? 0;
  const trend = series.filter((p) => p.step > warm).slice(-64);
  if (trend.length < DECAY_MIN_FLUSHES) return [];
  const early = ctx.early.slice(2).map(rate).filter(isFiniteNumber);
  const reference = median(early.length >= 3 ? early : trend.slice(0, 4).map((p) => p.r));
  const now = median(trend.slice(-4).map((p) => p.r));
  const tau = kendallTau(trend.map((p) => p.r));
  if (!(now < DECAY_SHARE * reference) || tau > DECAY_TAU) return [];
  // Gradual: the median of each quarter of the window below the one before. A machine that
  // got busy at some point (another job) makes one step down, flat on either side of it.
  const quarter = Math.floor(trend.length / 4);
  const quarters = [0, 1, 2, 3].map((q) => median(trend.slice(q * quarter, q === 3 ? trend.length : (q + 1) * quarter).map((p) => p.r)));
  if (!quarters.every((m, q) => q === 0 || m < quarters[q - 1]!)) return [];
  const step = trend[trend.length - 1]!.step;
  return [
    issue({
      code: 'throughput.decay',
      severity: 'warning',
      category: 'throughput',
      title: 'Training keeps getting slower',
      description: `Throughput fell steadily to ${fmt(now)} samples/s at step ${step} (median of the last 4 flushes), ${fmt((100 * now) / reference)}% of the run's early ${fmt(reference)}; the trend over the last ${trend.length} flushes has Kendall's tau ${fmt(tau)} (thresholds: under ${100 * DECAY_SHARE}% of the early median, tau at most ${DECAY_TAU}, ${DECAY_MIN_FLUSHES} flushes).`,
      suggestion:
        'Something grows with every step: look for a list or history appended to each step (and scanned), tensors kept per step (memory growing too), or a dataset pipeline that re-reads more each epoch; profile a step now and compare with an early one.',
      confidence: confidence({ margin: (DECAY_SHARE * reference) / now, decisive: 2, seen: Math.round(-tau * 100), of: 100, minSeen: 60 }),
      epochIndex: step,
      metricValue: { samples_per_second: now, early_samples_per_second: reference, kendall_tau: tau, flushes: trend.length },
    }),
  ];
};

export const throughputRules: Rule[] = [verySlowThroughput, throughputCollapse, throughputDecay];
