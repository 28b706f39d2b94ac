import type { Rule } from '../types.ts';
import { confidence, field, fmt, issue, lastFiniteLosses } from './util.ts';

/** Training went on for 50+ flushes and 30%+ of the run after the loss last improved. */
export const wastedCompute: Rule = (ctx) => {
  const best = ctx.bestLoss;
  const last = lastFiniteLosses(ctx.steps, 1)[0];
  if (!best || !last || ctx.totalSteps < 50) return [];
  const since = last.step - best.stepIndex;
  if (since < 50 || since < 0.3 * (last.step + 1)) return [];
  const step = ctx.steps[ctx.steps.length - 1]!;
  const cumulative = step.sustainability?.cumulative_compute;
  const gflops = cumulative && typeof cumulative === 'object' && !Array.isArray(cumulative) ? field(cumulative, 'total_gflops') : undefined;
  return [
    issue({
      code: 'sustainability.wasted_compute',
      severity: 'info',
      category: 'sustainability',
      title: 'Compute spent after the loss stopped improving',
      description: `The best train loss (${fmt(best.value)}) was at step ${best.stepIndex}; the ${since} flushes since (${fmt((100 * since) / (last.step + 1))}% of the run) have not beaten it${gflops !== undefined ? `, while ${fmt(gflops)} GFLOPs were spent in total` : ''}.`,
      suggestion: 'Stop early (patience on the validation loss), lower the learning rate on plateau, or use the saved best checkpoint.',
      confidence: confidence({ margin: since / (0.3 * (last.step + 1)), decisive: 2 }),
      epochIndex: last.step,
      metricValue: { best_loss: best.value, best_step: best.stepIndex, steps_since_best: since },
    }),
  ];
};

export const sustainabilityRules: Rule[] = [wastedCompute];
