import type { JsonObject } from '../../lib/extended-json.ts';
import type { Rule, StepRecord } from '../types.ts';
import { confidence, field, fmt, isFiniteNumber, issue, lastStep, median, num } from './util.ts';

/** Pairs of (used, capacity) fields an observer may report in its memory channel. */
const CAPACITY_PAIRS: [used: string, capacity: string, what: string][] = [
  ['cuda_allocated_mb', 'cuda_total_mb', 'GPU memory'],
  ['gpu_used_mb', 'gpu_total_mb', 'GPU memory'],
  ['js_heap_used_mb', 'js_heap_limit_mb', 'JS heap'],
  ['process_rss_mb', 'system_total_mb', 'process memory'],
];

function fullest(mem: JsonObject): { fraction: number; used: number; capacity: number; what: string } | undefined {
  let best: { fraction: number; used: number; capacity: number; what: string } | undefined;
  for (const [u, c, what] of CAPACITY_PAIRS) {
    const used = field(mem, u);
    const capacity = field(mem, c);
    if (!isFiniteNumber(used) || !isFiniteNumber(capacity) || capacity <= 0) continue;
    const fraction = used / capacity;
    if (!best || fraction > best.fraction) best = { fraction, used, capacity, what };
  }
  return best;
}

/** Memory at 90% (warning) or 95% (critical) of what the device or heap has. */
export const memoryNearCapacity: Rule = (ctx) => {
  const s = lastStep(ctx.steps);
  const f = s?.memory ? fullest(s.memory) : undefined;
  if (!s || !f || f.fraction < 0.9) return [];
  return [
    issue({
      code: 'memory.near_capacity',
      severity: f.fraction >= 0.95 ? 'critical' : 'warning',
      category: 'memory',
      title: `${f.what} near capacity`,
      description: `${f.what} at ${fmt(f.used)} of ${fmt(f.capacity)} MB (${fmt(100 * f.fraction)}%) at step ${s.step_index}; thresholds 90% warning, 95% critical.`,
      suggestion: 'Try: 1) smaller batches, 2) a smaller model, 3) dispose tensors you no longer need (tf.tidy), 4) lower precision where the backend supports it.',
      confidence: confidence({ margin: f.fraction / 0.9, decisive: 1 / 0.9 }),
      epochIndex: s.step_index,
      metricValue: { used_mb: f.used, capacity_mb: f.capacity, fraction: f.fraction },
    }),
  ];
};

/** Flushes the count must rise over: 8, or fewer (at least 4) when they are far apart: 40 training steps' worth. */
const LEAK_WINDOW = 8;
const LEAK_MIN_WINDOW = 4;
const LEAK_STEPS = 40;

/** How many flushes to look at: 8, or as many as cover 40 training steps when each flush covers many (`num_batches`). */
function leakWindow(steps: readonly StepRecord[]): number {
  const perFlush = median(steps.slice(-LEAK_WINDOW).map((s) => num(s.loss?.num_batches ?? undefined)).filter(isFiniteNumber));
  if (!(perFlush > 0)) return LEAK_WINDOW;
  return Math.max(LEAK_MIN_WINDOW, Math.min(LEAK_WINDOW, Math.ceil(LEAK_STEPS / perFlush) + 1));
}

/**
 * The tfjs tensor count (or allocated bytes) rising at every one of the last 8 flushes (or
 * fewer, down to 4, when each flush covers many steps: 40 steps in all): a leak. A count that
 * is large but flat, or that rises and falls, is fine.
 */
export const memoryGrowth: Rule = (ctx) => {
  const LEAK_WINDOW = leakWindow(ctx.steps);
  for (const [key, what, minGrowth] of [
    ['num_tensors', 'tensor count', 10],
    ['num_bytes', 'allocated bytes', 1e6],
    ['cuda_allocated_mb', 'GPU memory (MB)', 50],
  ] as const) {
    const series = ctx.steps.slice(-LEAK_WINDOW).map((s) => field(s.memory, key));
    if (series.length < LEAK_WINDOW || !series.every(isFiniteNumber)) continue;
    const xs = series as number[];
    let rises = 0;
    let falls = 0;
    for (let i = 1; i < xs.length; i++) {
      if (xs[i]! > xs[i - 1]!) rises++;
      else if (xs[i]! < xs[i - 1]!) falls++;
    }
    const growth = xs[xs.length - 1]! - xs[0]!;
    // Every interval rises: judged by persistence, not against the level (a big model's
    // tens of thousands of tensors would hide a leak of a few per step).
    if (rises < LEAK_WINDOW - 1 || falls > 0 || growth < minGrowth) continue;
    const step = lastStep(ctx.steps)!.step_index;
    return [
      issue({
        code: 'memory.leak',
        severity: 'warning',
        category: 'memory',
        title: key === 'num_tensors' ? 'Tensor leak: tensor count keeps rising' : 'Memory keeps growing',
        description: `The ${what} rose in ${rises} of the last ${LEAK_WINDOW - 1} flushes, from ${fmt(xs[0]!)} to ${fmt(xs[xs.length - 1]!)} at step ${step} (+${fmt(growth / (LEAK_WINDOW - 1))} per flush) and never fell.`,
        suggestion:
          'Try: 1) wrap the training step in tf.tidy(), 2) dispose() tensors created outside tidy (gradients, metrics, data batches), 3) keep losses as numbers only after reading them once, 4) check tf.memory().numTensors before and after one step.',
        // Every flush rose (the rule asks for that): how sure is how far past the minimum growth.
        confidence: confidence({ margin: growth / minGrowth, decisive: 10 }),
        epochIndex: step,
        metricValue: { [key]: xs[xs.length - 1]!, growth_per_flush: growth / (LEAK_WINDOW - 1) },
      }),
    ];
  }
  return [];
};

export const memoryRules: Rule[] = [memoryNearCapacity, memoryGrowth];
