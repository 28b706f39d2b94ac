import type { Rule } from '../types.ts';
import { confidence, issue, lastStep } from './util.ts';

/** Ten or more error logs since the previous flush. */
export const manyErrorLogs: Rule = (ctx) => {
  const { sinceLastRun, total, recentMessages } = ctx.errorLogs;
  if (sinceLastRun < 10) return [];
  const step = lastStep(ctx.steps)?.step_index ?? null;
  const sample = recentMessages.slice(-3).map((m) => `"${m.slice(0, 120)}"`).join('; ');
  return [
    issue({
      code: 'logs.many_errors',
      severity: 'warning',
      category: 'logs',
      title: 'Too many error logs',
      description: `${sinceLastRun} error logs since the previous flush (${total} this session; threshold 10). Latest: ${sample}.`,
      suggestion: 'Read the log tail: repeated errors often mean a failing data loader, a retried operation or a warning about precision or memory.',
      confidence: confidence({ margin: sinceLastRun / 10, decisive: 5 }),
      epochIndex: step,
      metricValue: { errors_since_last_flush: sinceLastRun, errors_total: total },
    }),
  ];
};

export const logRules: Rule[] = [manyErrorLogs];
