import type { Rule, StepRecord } from '../types.ts';
import { isLossMetric } from './metric-names.ts';
import { nonFiniteLoss } from './non-finite-loss.ts';
import { confidence, countLast, finiteLosses, fmt, isFiniteNumber, issue, lastFiniteLosses, median, num, startLoss } from './util.ts';

/** How far above the run's starting loss one flush must be to call the loss exploding at once. */
const EXPLODING_FACTOR = 10;

/**
 * The loss climbs away. Two ways to see it:
 * - exploding (critical), from a single flush: the flush's mean is 10x the loss the run
 *   started from (the lowest loss of its first flush, near ln K for a classifier at chance).
 *   No healthy run goes there, and a learning rate far too high gets there flushes before
 *   the loss overflows to Infinity or NaN, so this is the early warning for those runs;
 * - diverging (warning): the loss rose at each of the last two flushes (at the second flush
 *   when the run has only two) to twice its best, by at least 10% of the initial loss.
 */
export const divergingLoss: Rule = (ctx) => {
  const losses = lastFiniteLosses(ctx.steps, 3);
  const initial = finiteLosses(ctx.early)[0]?.value;
  const start = startLoss(ctx);
  if (losses.length === 0 || initial === undefined || start === undefined) return [];
  const best = Math.min(ctx.bestLoss?.value ?? Infinity, start, ...finiteLosses(ctx.steps).map((l) => l.value));
  const current = losses[losses.length - 1]!.value;
  const step = losses[losses.length - 1]!.step;
  const farAboveStart = current > EXPLODING_FACTOR * Math.abs(start) && current - best > 0.1 * Math.abs(start) + 1e-6;
  // Rising at each of the last flushes (two rises; one while the run has only two flushes).
  const recent = losses.map((l) => l.value);
  const climbing = recent.length >= 2 && recent.every((v, i) => i === 0 || v > recent[i - 1]!);
  const rising = climbing && current >= 2 * best && current - best >= 0.1 * Math.abs(initial);
  if (!farAboveStart && !rising) return [];
  return [
    issue({
      code: 'loss.diverging',
      severity: farAboveStart ? 'critical' : 'warning',
      category: 'loss',
      title: farAboveStart ? 'Loss is exploding' : 'Loss is diverging',
      description: farAboveStart
        ? `The train loss reached ${fmt(current)} at step ${step}, ${fmt(current / Math.abs(start))}x the ${fmt(start)} this run started from (threshold: ${EXPLODING_FACTOR}x). It will overflow to Infinity or NaN if nothing changes.`
        : `The train loss rose ${recent.length - 1 === 1 ? 'from the first flush' : 'two flushes in a row'} to ${fmt(current)} at step ${step}, ${fmt(current / best)}x its best of ${fmt(best)} (initial ${fmt(initial)}). Threshold: 2x the best and rising.`,
      suggestion:
        'Try: 1) lower the learning rate (3-10x), 2) add warmup or a decay schedule, 3) clip gradients, 4) check that labels match the loss function.',
      confidence: farAboveStart ? confidence({ margin: current / (EXPLODING_FACTOR * Math.abs(start)), decisive: 10 }) : confidence({ margin: current / (2 * best) }),
      epochIndex: step,
      metricValue: { loss: current, best_loss: best, initial_loss: initial, start_loss: start },
    }),
  ];
};

const PLATEAU_WINDOW = 20;

/** The loss has not moved from where it started over the last 20 flushes: the model learns nothing. */
export const stuckLoss: Rule = (ctx) => {
  const losses = lastFiniteLosses(ctx.steps, PLATEAU_WINDOW);
  const early = finiteLosses(ctx.early);
  if (losses.length < PLATEAU_WINDOW || early.length < 3) return [];
  const initial = median(early.slice(0, 3).map((l) => l.value));
  const window = losses.slice(-PLATEAU_WINDOW).map((l) => l.value);
  const head = median(window.slice(0, 5));
  const tail = median(window.slice(-5));
  const improvement = (head - tail) / Math.abs(head || 1);
  if (improvement >= 0.01 || tail < 0.9 * initial) return [];
  const step = losses[losses.length - 1]!.step;
  return [
    issue({
      code: 'loss.plateau',
      severity: 'warning',
      category: 'loss',
      title: 'Loss is not decreasing',
      description: `Over the last ${PLATEAU_WINDOW} flushes the train loss moved from ${fmt(head)} to ${fmt(tail)} (${fmt(improvement * 100)}% better; threshold 1%) and is still ${fmt((tail / initial) * 100)}% of its initial ${fmt(initial)}: the model is not learning.`,
      suggestion:
        'Try: 1) raise the learning rate if it is tiny, 2) check that labels are aligned with inputs, 3) normalise the inputs, 4) check for dead or saturated layers (sigmoid/tanh stacks), 5) use He/Glorot initialisation.',
      // Sure when the loss is still where it started; unsure near the 90% line.
      confidence: confidence({ margin: tail / (0.9 * initial), decisive: 1 / 0.9 }),
      epochIndex: step,
      metricValue: { loss: tail, loss_window_start: head, initial_loss: initial },
    }),
  ];
};

/** The validation loss of a flush: `val_loss`, `loss`, or else its first metric that is a loss (never an accuracy). */
function valLoss(val: Record<string, number | null> | null | undefined): number | undefined {
  if (!val) return undefined;
  const named = val.val_loss ?? val.loss;
  if (named != null) return num(named);
  const key = Object.keys(val).find(isLossMetric);
  return key === undefined ? undefined : num(val[key] ?? undefined);
}

/** The finite validation losses of the steps, with their step indexes. */
function valLosses(steps: readonly StepRecord[]): { step: number; val: number }[] {
  return steps.map((s) => ({ step: s.step_index, val: valLoss(s.loss?.val) })).filter((p): p is { step: number; val: number } => isFiniteNumber(p.val));
}

const VAL_WINDOW = 64;

/** A rise of the validation loss that matters: this share of its first value (the task's scale, near ln K). */
const VAL_RISE_OF_FIRST = 0.05;
/** How much the train loss may wobble up between flushes and still count as not rising: 1% of the task's scale (a fitted model's loss of 1e-4 jitters by more than 2% of itself). */
const TRAIN_WOBBLE_OF_FIRST = 0.01;

/**
 * Validation loss rising while train loss falls, well above it, in 3 of the last 4 flushes,
 * and up from its best by 10% and by 5% of its first value. The second bound is the task's
 * scale: a validation loss that went from 2.3 to 0.04 and wobbles back to 0.055 is a healthy
 * model at 98% accuracy, not an overfitting one.
 */
export const validationGap: Rule = (ctx) => {
  const points = ctx.steps
    .slice(-VAL_WINDOW)
    .map((s) => ({ step: s.step_index, train: num(s.loss?.train_mean ?? undefined), val: valLoss(s.loss?.val) }))
    .filter((p): p is { step: number; train: number; val: number } => Number.isFinite(p.train) && Number.isFinite(p.val));
  if (points.length < 5) return [];
  const firstVal = valLosses(ctx.early)[0]?.val ?? points[0]!.val;
  // The best of everything the engine keeps, not of the recent points only: a slow rise would
  // otherwise drag the best up with it.
  const bestVal = Math.min(...valLosses(ctx.steps).map((p) => p.val), ...valLosses(ctx.early).map((p) => p.val));
  const widening = (i: number): boolean => {
    const p = points[i]!;
    const prev = points[i - 1]!;
    return p.val > 1.3 * p.train && p.val > 1.1 * bestVal && p.val - bestVal > VAL_RISE_OF_FIRST * firstVal && p.val >= prev.val && p.train <= prev.train * 1.02 + TRAIN_WOBBLE_OF_FIRST * firstVal;
  };
  const idx = points.map((_, i) => i).slice(-4).filter((i) => i > 0);
  const widened = countLast(idx, 4, widening);
  if (widened < 3) return [];
  const last = points[points.length - 1]!;
  return [
    issue({
      code: 'loss.validation_gap',
      severity: 'warning',
      category: 'loss',
      title: 'Validation loss rising: overfitting',
      description: `At step ${last.step} the validation loss is ${fmt(last.val)} against a train loss of ${fmt(last.train)} (${fmt(last.val / last.train)}x), up from its best of ${fmt(bestVal)} (thresholds: 10% above the best and ${fmt(VAL_RISE_OF_FIRST * firstVal)}, 5% of the first validation loss ${fmt(firstVal)}) while the train loss kept falling in 3 of the last 4 flushes.`,
      suggestion:
        'Try: 1) stop early at the best validation loss, 2) add dropout or weight decay, 3) augment or enlarge the training set, 4) use a smaller model.',
      confidence: confidence({ margin: (last.val - bestVal) / Math.max(VAL_RISE_OF_FIRST * firstVal, 0.1 * bestVal), seen: widened, of: idx.length, minSeen: 3 }),
      epochIndex: last.step,
      metricValue: { val_loss: last.val, train_loss: last.train, best_val_loss: bestVal, first_val_loss: firstVal },
    }),
  ];
};

const GENERALISATION_FLUSHES = 10;
/** The recent validation losses the rule judges by (their median: one lucky dip does not count). */
const GENERALISATION_RECENT = 5;

/**
 * The validation loss is not 5% better than its first value after 10 flushes (the median of
 * its last 5, so that a dip of a noisy validation set does not count as learning): nothing
 * the model learns carries over to unseen data. When the train loss fell meanwhile, the model
 * memorises (labels decoupled from inputs, or a leak between them); when it did not, it
 * learns nothing at all (learning rate far too low, broken inputs).
 */
export const noGeneralisation: Rule = (ctx) => {
  if (ctx.totalSteps < GENERALISATION_FLUSHES) return [];
  const start = valLosses(ctx.early).slice(0, 2);
  const recent = valLosses(ctx.steps);
  if (start.length < 2 || recent.length < GENERALISATION_RECENT) return [];
  const first = Math.min(start[0]!.val, start[1]!.val);
  const now = median(recent.slice(-GENERALISATION_RECENT).map((p) => p.val));
  if (now < 0.95 * first) return [];
  const best = Math.min(...recent.map((p) => p.val), first);
  const trainStart = finiteLosses(ctx.early)[0]?.value;
  const trainNow = lastFiniteLosses(ctx.steps, 1)[0]?.value;
  if (trainStart === undefined || trainNow === undefined) return [];
  const memorising = trainNow < 0.8 * trainStart;
  const last = recent[recent.length - 1]!;
  return [
    issue({
      code: 'loss.no_generalisation',
      severity: 'warning',
      category: 'loss',
      title: memorising ? 'Train loss falls, validation loss does not: memorising' : 'Validation loss is not improving',
      description: `After ${ctx.totalSteps} flushes the validation loss is ${fmt(last.val)} (median of the last ${GENERALISATION_RECENT}: ${fmt(now)}, best ${fmt(best)}) against ${fmt(first)} at the start (threshold: 5% better), while the train loss went from ${fmt(trainStart)} to ${fmt(trainNow)}. ${
        memorising ? 'The model fits the training labels but learns nothing that holds on unseen data.' : 'The model is not learning anything that carries over.'
      }`,
      suggestion: memorising
        ? 'Check that inputs and labels were shuffled together (not separately), that the labels match the inputs, and that the validation set comes from the same distribution.'
        : 'Try: 1) raise the learning rate (10x), 2) check the inputs are normalised and reach the model, 3) check the labels match the loss function.',
      // Sure when validation has not moved at all; unsure when it is nearly 5% better.
      confidence: confidence({ margin: now / (0.95 * first), decisive: 1 / 0.95 }),
      epochIndex: last.step,
      metricValue: { val_loss: last.val, recent_val_loss: now, best_val_loss: best, first_val_loss: first, train_loss: trainNow, first_train_loss: trainStart },
    }),
  ];
};

const OSCILLATION_WINDOW = 10;
/** Cycles looked for: the loss coming back to where it was 2, 3 or 4 flushes before. */
const CYCLE_PERIODS = [2, 3, 4];

/**
 * The loss swings up and down instead of settling, in one of two ways over the last 10 flushes:
 * - a cycle: it comes back to where it was 2, 3 or 4 flushes before (a mean gap under 30% of
 *   its flush-to-flush swing), swinging by 5% of its level and by more than 0.05. A step just
 *   past what the curvature allows bounces between two sides of a valley like this; batch
 *   noise does not repeat (its gap at any lag is as large as its swing), and a loss that is
 *   still falling does not come back;
 * - chaos: at least 6 changes of direction with a mean swing above the median loss itself.
 * Thresholds are relative to the loss's own level, and 0.05 leaves a loss near zero alone.
 */
export const oscillatingLoss: Rule = (ctx) => {
  const losses = lastFiniteLosses(ctx.steps, OSCILLATION_WINDOW);
  if (losses.length < OSCILLATION_WINDOW) return [];
  const v = losses.map((l) => l.value);
  const gap = (lag: number) => {
    let sum = 0;
    for (let i = lag; i < v.length; i++) sum += Math.abs(v[i]! - v[i - lag]!);
    return sum / (v.length - lag);
  };
  const d = v.slice(1).map((x, i) => x - v[i]!);
  let turns = 0;
  for (let i = 1; i < d.length; i++) if (d[i]! * d[i - 1]! < 0) turns++;
  const swing = gap(1);
  const level = median(v);
  const [period, periodGap] = CYCLE_PERIODS.map((p) => [p, gap(p)] as const).reduce((a, b) => (b[1] < a[1] ? b : a));
  const cycling = swing > 0.05 && swing > 0.05 * level && periodGap < 0.3 * swing && turns >= 4;
  const chaotic = turns >= 6 && swing > level && swing > 0.05;
  if (!cycling && !chaotic) return [];
  const step = losses[losses.length - 1]!.step;
  return [
    issue({
      code: 'loss.oscillating',
      severity: 'warning',
      category: 'loss',
      title: 'Loss is oscillating',
      description: cycling
        ? `Over the last ${OSCILLATION_WINDOW} flushes the train loss swung by ${fmt(swing)} a flush on average (${fmt((100 * swing) / level)}% of its median ${fmt(level)}) and came back every ${period} flushes to within ${fmt(periodGap)} of where it was (thresholds: a swing of 5% of the level and 0.05, a return within 30% of the swing): the steps bounce between the sides of a valley instead of going down it.`
        : `Over the last ${OSCILLATION_WINDOW} flushes the train loss changed direction ${turns} times and swung by ${fmt(swing)} on average, more than its median of ${fmt(level)} (thresholds: 6 turns, a swing above the median): the steps overshoot.`,
      suggestion: 'Try: 1) lower the learning rate (2-10x), 2) lower the momentum, 3) a larger batch, 4) a decay schedule.',
      confidence: cycling ? confidence({ margin: (0.3 * swing) / periodGap, decisive: 3 }) : confidence({ margin: swing / level, decisive: 3 }),
      epochIndex: step,
      metricValue: { mean_swing: swing, median_loss: level, direction_changes: turns, ...(cycling ? { period, return_gap: periodGap } : {}) },
    }),
  ];
};

export const lossRules: Rule[] = [nonFiniteLoss, divergingLoss, stuckLoss, validationGap, noGeneralisation, oscillatingLoss];
