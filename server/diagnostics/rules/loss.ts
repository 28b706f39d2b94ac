import type { Rule, StepRecord } from '../types.ts';
import { isLossMetric } from './metric-names.ts';
import { escalating } from './escalation.ts';
import { nonFiniteLoss } from './non-finite-loss.ts';
import { learningRateFarOff } from './learning-rate.ts';
import { ruinedRun } from './ruined.ts';
import { confidence, countLast, field, MIN_BATCHES_PER_POINT, MIN_SAMPLES_PER_POINT, trainLoss as trainLossOf, finiteLosses, fmt, isFiniteNumber, issue, lastFiniteLosses, lossPoints, gradientsGrowing, mad, median, num, quantile, rollingMedian, startKind, startLoss } from './util.ts';

/** How far above the run's starting loss one flush must be to call the loss exploding at once. */
const EXPLODING_FACTOR = 10;

/** How many MADs above the median of the flushes before it a rising loss must be to count as diverging. */
const NOISE_MULTIPLE = 4;

/**
 * The loss climbs away. Two ways to see it:
 * - exploding (critical), from a single flush: the flush's mean is 10x the loss the run
 *   started from (`startLoss`: its first flush's mean, near ln K for a new classifier). No
 *   healthy run goes there, and a learning rate far too high gets there flushes before the
 *   loss overflows to Infinity or NaN, so this is the early warning for those runs;
 * - diverging (warning): the loss rose at each of the last two flushes (at the second flush
 *   when the run has only two) to twice its best at both (one batch's spike is no climb), by at least 10% of the initial loss, and
 *   out of the run's own spread: above the median plus 4 MADs and the 90th percentile of the
 *   (up to 20) flushes from its best to the climb. The best is the lowest median of 3 flushes in a
 *   row once there are five (of 5 once there are ten): with one batch per flush, a lucky
 *   batch is no record.
 * - rising from the start (critical): diverging as above, with every point since the first at
 *   95% of it or above and the newest of at least 3 at twice it: the run never went down at all.
 * "Flushes" here are points of at least 4 training steps (`lossPoints`: flushes of fewer steps
 * merged), so that a run flushing every small batch is judged on more than one batch's loss.
 */
export const divergingLoss: Rule = (ctx) => {
  // Points of at least 4 training steps (one-batch flushes merged): a climb is judged on them.
  const merged = lossPoints(ctx.steps);
  const points = merged.length ? merged : finiteLosses(ctx.steps);
  const losses = points.slice(-3);
  const initial = finiteLosses(ctx.early)[0]?.value;
  const start = startLoss(ctx);
  if (losses.length === 0 || initial === undefined || start === undefined) return [];
  const window = points.map((l) => l.value);
  // Medians of 5 flushes once there are 10 (of 3 before): a few lucky batches in a row set no record.
  const k = window.length >= 10 ? 5 : 3;
  const smoothed = rollingMedian(window, k);
  const best = Math.min(smoothed.length >= 3 ? Math.min(...smoothed) : Math.min(...window), start);
  const bestAt = smoothed.length >= 3 ? smoothed.indexOf(Math.min(...smoothed)) : 0;
  const current = losses[losses.length - 1]!.value;
  const step = losses[losses.length - 1]!.step;
  // 10x the start is no batch noise: judged on the newest flush itself too.
  const newest = lastFiniteLosses(ctx.steps, 1)[0];
  const farAboveStart = [current, newest?.value ?? current].some((v) => v > EXPLODING_FACTOR * Math.abs(start) && v - best > 0.1 * Math.abs(start) + 1e-6);
  // Rising at each of the last flushes (two rises; one while the run has only two flushes).
  const recent = losses.map((l) => l.value);
  const climbing = recent.length >= 2 && recent.every((v, i) => i === 0 || v > recent[i - 1]!);
  // The run's own spread over the (up to 20) flushes from its best to the climb: the loss must
  // leave it, above their median plus 4 MADs and above their 90th percentile (batch noise can
  // be two-humped: most batches low, a few of the minority class high). A short run is judged
  // without it.
  const before = window.slice(Math.max(bestAt, window.length - 22), -2);
  // Too few points for a spread: the highest batch of the flushes before the climb instead
  // (the climb's points must leave even that; a steady ascent does, batch noise seldom).
  const climbFrom = points[Math.max(0, points.length - 3)]!.step;
  const highestBatch = Math.max(...ctx.steps.filter((s) => s.step_index <= climbFrom).map((s) => num(s.loss?.train_max ?? undefined) ?? trainLossOf(s)).filter(isFiniteNumber), -Infinity);
  const usual = before.length >= 4 ? Math.max(median(before) + NOISE_MULTIPLE * mad(before), quantile(before, 0.9)) : highestBatch;
  const noise = before.length >= 4 ? mad(before) : 0;
  // Sustained: the flush before the newest is past the thresholds too (one batch's spike is not a climb).
  const level = recent.length >= 3 ? recent[recent.length - 2]! : current;
  // Merged small flushes: two points of a few batches each say too little of a climb; three.
  const newest1 = ctx.steps[ctx.steps.length - 1];
  const merging = (num(newest1?.loss?.num_batches ?? undefined) ?? 1) < MIN_BATCHES_PER_POINT && (field(newest1?.throughput, 'samples_processed') ?? 0) < MIN_SAMPLES_PER_POINT;
  const enough = !merging || recent.length >= 3;
  const rising = enough && climbing && level >= 2 * best && current - best >= 0.1 * Math.abs(initial) && level > usual;
  if (!farAboveStart && !rising) return [];
  // Rising since the first point, never below it, now at twice where it started: the run has
  // gone up from its first step (gradient ascent, a rate far too high), not down and back up.
  // No healthy run does this; every further step is wasted, so it pauses.
  const fromStart = rising && window.length >= 3 && ctx.totalSteps <= ctx.steps.length && window.every((v) => v >= 0.95 * window[0]!) && current >= 2 * Math.max(window[0]!, start);
  const critical = farAboveStart || fromStart;
  return [
    issue({
      code: 'loss.diverging',
      severity: critical ? 'critical' : 'warning',
      category: 'loss',
      title: farAboveStart ? 'Loss is exploding' : fromStart ? 'Loss is rising from the start' : 'Loss is diverging',
      description: farAboveStart
        ? `The train loss reached ${fmt(current)} at step ${step}, ${fmt(current / Math.abs(start))}x the ${fmt(start)} this run started from (threshold: ${EXPLODING_FACTOR}x). It will overflow to Infinity or NaN if nothing changes.`
        : fromStart
          ? `The train loss has risen since the run's first flush and never went below it: ${fmt(window[0]!)} then, ${fmt(current)} at step ${step}, ${fmt(current / Math.max(window[0]!, start))}x (thresholds: never under 95% of the first flush, twice it now, rising at the last flushes). Training goes uphill: a gradient with its sign flipped, or steps far too large; every further step is wasted.`
          : `The train loss rose ${recent.length - 1 === 1 ? 'from the first flush' : 'two flushes in a row'} to ${fmt(current)} at step ${step}, ${fmt(current / best)}x its best of ${fmt(best)} (the lowest median of ${window.length >= 10 ? 5 : 3} flushes; initial ${fmt(initial)}). Thresholds: 2x the best and rising, above ${fmt(usual)}, the median plus ${NOISE_MULTIPLE} MADs (${fmt(noise)}) and the 90th percentile of the flushes since the best.`,
      suggestion:
        'Try: 1) lower the learning rate (3-10x), 2) add warmup or a decay schedule, 3) clip gradients, 4) check that labels match the loss function.',
      confidence: farAboveStart
        ? confidence({ margin: current / (EXPLODING_FACTOR * Math.abs(start)), decisive: 10 })
        : fromStart
          ? confidence({ margin: current / (2 * Math.max(window[0]!, start)), seen: window.length, of: window.length })
          : confidence({ margin: current / (2 * best) }),
      epochIndex: step,
      metricValue: { loss: current, best_loss: best, initial_loss: initial, start_loss: start, noise },
    }),
  ];
};

/**
 * How many of the newest flushes it takes to cover `minSteps` training steps (each flush's
 * `num_batches`, 1 when it does not say), and at least `minFlushes`; undefined when the window
 * does not hold that many.
 */
function flushesCovering(steps: readonly StepRecord[], minFlushes: number, minSteps: number): number | undefined {
  let covered = 0;
  for (let n = 1; n <= steps.length; n++) {
    covered += num(steps[steps.length - n]!.loss?.num_batches ?? undefined) ?? 1;
    if (n >= minFlushes && covered >= minSteps) return n;
  }
  return undefined;
}

const PLATEAU_FLUSHES = 20;
/** ...and at least this many training steps: 20 flushes of one step each say nothing of a plateau start. */
const PLATEAU_STEPS = 100;

/**
 * The loss has not moved from where it started over the last 20 flushes and 100 training
 * steps: the model learns nothing. Only for a run from scratch (see `startKind`), and not
 * while some layer's gradients double over the window (`gradientsGrowing`: a plateau of a
 * small initialisation that is ending).
 */
export const stuckLoss: Rule = (ctx) => {
  // "Still where it started" means nothing learned only for a new model: a resumed or
  // fine-tuned run may start at its floor.
  if (startKind(ctx) !== 'scratch') return [];
  const PLATEAU_WINDOW = flushesCovering(ctx.steps, PLATEAU_FLUSHES, PLATEAU_STEPS);
  if (PLATEAU_WINDOW === undefined) return [];
  const losses = lastFiniteLosses(ctx.steps, PLATEAU_WINDOW);
  const early = finiteLosses(ctx.early);
  if (losses.length < PLATEAU_WINDOW || early.length < 3) return [];
  const initial = median(early.slice(0, 3).map((l) => l.value));
  const window = losses.slice(-PLATEAU_WINDOW).map((l) => l.value);
  const head = median(window.slice(0, 5));
  const tail = median(window.slice(-5));
  const improvement = (head - tail) / Math.abs(head || 1);
  if (improvement >= 0.01 || tail < 0.9 * initial) return [];
  // Gradients doubling over the window: a small initialisation's plateau that is ending.
  if (gradientsGrowing(ctx.steps.slice(-PLATEAU_WINDOW))) return [];
  const step = losses[losses.length - 1]!.step;
  return [
    issue({
      code: 'loss.plateau',
      severity: 'warning',
      category: 'loss',
      title: 'Loss is not decreasing',
      description: `Over the last ${PLATEAU_WINDOW} flushes (at least ${PLATEAU_FLUSHES} and ${PLATEAU_STEPS} training steps) the train loss moved from ${fmt(head)} to ${fmt(tail)} (${fmt(improvement * 100)}% better; threshold 1%) and is still ${fmt((tail / initial) * 100)}% of its initial ${fmt(initial)}: the model is not learning.`,
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
/** ...and at least this many training steps. */
const GENERALISATION_STEPS = 50;
/** The recent validation losses the rule judges by (their median: one lucky dip does not count). */
const GENERALISATION_RECENT = 5;

/**
 * The validation loss is not 5% better than its first value after 10 flushes and 50 training
 * steps when the train loss fell (20 and 100 when it did not, as for a plateau) (the median of
 * its last 5, so that a dip of a noisy validation set does not count as learning): nothing
 * the model learns carries over to unseen data. When the train loss fell meanwhile, the model
 * memorises (labels decoupled from inputs, or a leak between them); when it did not, it
 * learns nothing at all (learning rate far too low, broken inputs).
 */
export const noGeneralisation: Rule = (ctx) => {
  // A resumed or fine-tuned run's validation loss may start at its floor: not 5% better is no news.
  if (ctx.totalSteps < GENERALISATION_FLUSHES || startKind(ctx) !== 'scratch' || flushesCovering(ctx.steps, 1, GENERALISATION_STEPS) === undefined) return [];
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
  // Learning nothing at all (train loss flat too) needs the evidence the plateau rule needs:
  // a slow start (a small initialisation) sits still longer than 10 flushes and 50 steps.
  if (!memorising && (ctx.totalSteps < PLATEAU_FLUSHES || flushesCovering(ctx.steps, 1, PLATEAU_STEPS) === undefined)) return [];
  // Not learning yet, while the gradients double: a small initialisation's plateau that is ending.
  if (!memorising && gradientsGrowing(ctx.steps.slice(-2 * GENERALISATION_FLUSHES))) return [];
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

const OSCILLATION_WINDOW = 16;
/** Cycles looked for: the loss coming back to where it was 2, 3 or 4 flushes before. */
const CYCLE_PERIODS = [2, 3, 4];

/**
 * The loss swings up and down instead of settling, in one of two ways over the last 16 points
 * (flushes, or merged flushes of at least 4 training steps: `lossPoints`); 16, because the
 * rule looks at every flush and a shorter window of batch noise passes the cycle test now and
 * then by chance:
 * - a cycle: it comes back to where it was 2, 3 or 4 flushes before (a mean gap under 30% of
 *   its flush-to-flush swing), swinging by 5% of its level and by more than 0.05. A step just
 *   past what the curvature allows bounces between two sides of a valley like this; batch
 *   noise does not repeat (its gap at any lag is as large as its swing), and a loss that is
 *   still falling does not come back;
 * - chaos: at least 6 changes of direction with a mean swing above the median loss itself,
 *   while that median is above 10% of where the run started.
 * Thresholds are relative to the loss's own level, and 0.05 leaves a loss near zero alone.
 */
export const oscillatingLoss: Rule = (ctx) => {
  // Points of at least 4 training steps: one-batch flushes swing with their batches.
  const losses = lossPoints(ctx.steps).slice(-OSCILLATION_WINDOW);
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
  // Chaos is judged while the loss is still well above its floor: near it, one batch per
  // flush swings by more than the loss itself, and that is batch noise.
  const start = startLoss(ctx);
  const chaotic = turns >= 6 && swing > level && swing > 0.05 && (start === undefined || level > 0.1 * start);
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

/**
 * The loss rules as the engine runs them: a diverging, flat or non-generalising loss that
 * persists and worsens with high confidence escalates to critical (see `escalating`); a
 * ruined run is critical at once.
 */
export const lossRules: Rule[] = [nonFiniteLoss, escalating(divergingLoss), escalating(stuckLoss), validationGap, escalating(noGeneralisation), oscillatingLoss, ruinedRun, learningRateFarOff];
