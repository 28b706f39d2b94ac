import type { JsonValue } from '../../lib/extended-json.ts';
import type { Rule, StepRecord } from '../types.ts';
import { confidence, field, fmt, isFiniteNumber, issue, num } from './util.ts';

const newestProfiled = (steps: readonly StepRecord[], newSteps: number): StepRecord | undefined =>
  steps.slice(-Math.max(newSteps, 1)).findLast((s) => s.profiler && typeof s.profiler === 'object');

const asObjects = (v: JsonValue | undefined): Record<string, JsonValue>[] =>
  Array.isArray(v) ? (v.filter((x) => x && typeof x === 'object' && !Array.isArray(x)) as Record<string, JsonValue>[]) : [];

/** Forward and backward times of a profile: explicit totals, else summed per layer. */
function fwdBwd(p: Record<string, JsonValue>): { fwd: number; bwd: number } | undefined {
  const fwd = num(p.forward_ms);
  const bwd = num(p.backward_ms);
  if (isFiniteNumber(fwd) && isFiniteNumber(bwd)) return { fwd, bwd };
  const layers = asObjects(p.per_layer);
  if (!layers.length) return undefined;
  let f = 0;
  let b = 0;
  for (const l of layers) {
    f += num(l.fwd_us) ?? 0;
    b += num(l.bwd_us) ?? 0;
  }
  return f > 0 && b > 0 ? { fwd: f / 1000, bwd: b / 1000 } : undefined;
}

/** Backward usually costs 1-3x the forward pass; far outside that points at waste. */
export const forwardBackwardRatio: Rule = (ctx) => {
  const s = newestProfiled(ctx.steps, ctx.newSteps);
  const fb = s?.profiler ? fwdBwd(s.profiler) : undefined;
  if (!s || !fb || fb.fwd <= 0) return [];
  const ratio = fb.bwd / fb.fwd;
  if (ratio >= 0.5 && ratio <= 5) return [];
  return [
    issue({
      code: 'profiler.fwd_bwd_ratio',
      severity: 'info',
      category: 'profiler',
      title: 'Unusual forward/backward time ratio',
      description: `At step ${s.step_index} the backward pass took ${fmt(fb.bwd)} ms against ${fmt(fb.fwd)} ms forward (${fmt(ratio)}x; usual range 0.5-5x).`,
      suggestion:
        ratio > 5
          ? 'Backward dominates: look for ops with costly gradients (gather/scatter, large embeddings), recomputation, or gradients of frozen layers.'
          : 'Forward dominates: look for work in the forward pass that needs no gradient (data preprocessing, metrics) and move it out of the step.',
      confidence: confidence({ margin: ratio > 5 ? ratio / 5 : 0.5 / ratio }),
      epochIndex: s.step_index,
      metricValue: { forward_ms: fb.fwd, backward_ms: fb.bwd, ratio },
    }),
  ];
};

/** One kernel taking over 60% of the profiled time. */
export const dominantOp: Rule = (ctx) => {
  const s = newestProfiled(ctx.steps, ctx.newSteps);
  if (!s?.profiler) return [];
  const ops = asObjects(s.profiler.top_operations);
  const timeOf = (o: Record<string, JsonValue>) => num(o.cpu_time_ms) ?? num(o.time_ms) ?? num(o.kernel_time_ms) ?? 0;
  const total = field(s.profiler, 'total_time_ms') ?? field(s.profiler, 'total_cpu_time_ms') ?? ops.reduce((t, o) => t + timeOf(o), 0);
  if (!isFiniteNumber(total) || total <= 0 || ops.length < 2) return [];
  const top = ops.reduce((a, b) => (timeOf(b) > timeOf(a) ? b : a));
  const share = timeOf(top) / total;
  if (share < 0.6) return [];
  const name = String(top.name ?? 'unknown');
  return [
    issue({
      code: 'profiler.dominant_op',
      severity: 'info',
      category: 'profiler',
      title: `One operation dominates: ${name}`,
      description: `At step ${s.step_index} '${name}' took ${fmt(timeOf(top))} ms of ${fmt(total)} ms profiled (${fmt(100 * share)}%; threshold 60%).`,
      suggestion: 'Optimise that op first: fuse or batch it, change its shape (e.g. multiples of 8/64), or move it off the training step.',
      confidence: confidence({ margin: share / 0.6, decisive: 1 / 0.6 }),
      epochIndex: s.step_index,
      metricValue: { op_time_ms: timeOf(top), total_time_ms: total, share },
    }),
  ];
};

export const profilerRules: Rule[] = [forwardBackwardRatio, dominantOp];
