import type { Issue, LossChannel, Rule, StepRecord } from '../types.ts';
import { isLossMetric } from './metric-names.ts';
import { field, fmt, isNonFinite, issue, num } from './util.ts';

/** A number of a flush's loss channel: a train loss statistic or a validation metric. */
interface LossNumber {
  /** `train_mean`, or `val.<metric>` as the client named it. */
  key: string;
  value: number;
  /** Train loss, or a validation metric that is a loss (see `isLossMetric`). */
  isLoss: boolean;
}

/** The non-finite numbers of a flush's loss channel, train statistics first. */
function nonFiniteNumbers(l: LossChannel): LossNumber[] {
  const train = (['train_mean', 'train_min', 'train_max'] as const).map((k) => ({ key: k, value: l[k], isLoss: true }));
  const val = Object.entries(l.val ?? {}).map(([k, v]) => ({ key: `val.${k}`, value: v, isLoss: isLossMetric(k) }));
  return [...train, ...val].filter((n): n is LossNumber => isNonFinite(n.value));
}

/**
 * A NaN or infinite number in the loss channel of the newest steps, named for what it is:
 * - a train loss, or a validation metric that is a loss (`val_loss`, `val_cross_entropy`,
 *   `val_mse`, ...): critical, from the first one. Every weight update from there is meaningless;
 * - any other validation metric (`val_accuracy`, `val_f1`, ...) while no loss is: a warning.
 *   A custom loop's metric goes NaN when it divides by zero (an empty validation batch, a class
 *   with no samples); the model is not broken by it, so it does not pause on its own.
 * It has its own code, so that resuming past a metric's NaN does not silence a loss's.
 */
export const nonFiniteLoss: Rule = (ctx) => {
  let metric: { s: StepRecord; bad: LossNumber[] } | undefined;
  for (const s of ctx.steps.slice(-Math.max(ctx.newSteps, 1))) {
    if (!s.loss) continue;
    const bad = nonFiniteNumbers(s.loss);
    const loss = bad.find((n) => n.isLoss);
    if (loss) return [lossIssue(s, loss)];
    if (bad.length) metric ??= { s, bad };
  }
  return metric ? [metricIssue(metric.s, metric.bad)] : [];
};

function lossIssue(s: StepRecord, { key, value }: LossNumber): Issue {
  const isTrain = key.startsWith('train');
  const name = key.replace(/^val\./, '');
  // The observer names the training step inside the flush whose loss broke first.
  const trainingStep = isTrain ? (field(s.observer, 'first_non_finite_step') ?? num(s.loss!.first_non_finite_step ?? undefined)) : undefined;
  return issue({
    code: 'loss.non_finite',
    severity: 'critical',
    category: 'loss',
    title: isTrain ? `Loss is ${fmt(value)}` : `Validation loss ${name} is ${fmt(value)}`,
    description: `The ${isTrain ? `train loss (${name})` : `validation loss ${name}`} became ${fmt(value)} at step ${s.step_index}${trainingStep !== undefined ? ` (training step ${trainingStep})` : ''}: the gradients exploded or a computation divided by zero or took the log of zero. Every weight update from here on is meaningless.`,
    suggestion:
      'Try: 1) lower the learning rate (10x), 2) clip gradients (clipnorm=1.0), 3) check the inputs and labels for NaN, 4) add a small epsilon inside log/division, 5) use a numerically stable loss (from logits).',
    confidence: 1,
    epochIndex: s.step_index,
    metricValue: { [key]: value },
  });
}

function metricIssue(s: StepRecord, bad: LossNumber[]): Issue {
  const names = bad.map((n) => n.key.replace(/^val\./, ''));
  const [first] = bad;
  return issue({
    code: 'loss.non_finite_metric',
    severity: 'warning',
    category: 'loss',
    title: `Validation metric ${names[0]} is ${fmt(first!.value)}`,
    description: `The validation metric${names.length > 1 ? 's' : ''} ${names.join(', ')} became ${bad.map((n) => fmt(n.value)).join(', ')} at step ${s.step_index}, while no loss is NaN or Infinity. A metric that is not a loss goes NaN when it divides by zero (an empty validation batch, a class with no samples, no positive predictions for precision), which says nothing about the model; its value at this step is lost.`,
    suggestion: 'Check how the metric is computed: skip empty validation batches, guard divisions with an epsilon, and make sure every class the metric averages over appears in the validation set.',
    confidence: 1,
    epochIndex: s.step_index,
    metricValue: Object.fromEntries(bad.map((n) => [n.key, n.value])),
  });
}
