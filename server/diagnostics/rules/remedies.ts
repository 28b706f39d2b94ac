import { describeAction, inApplyOrder, REMEDY_LIMITS, START_OF_RUN, type Remedy, type RemedyAction } from '../remedy.ts';
import type { DiagnosticContext, Issue, StepRecord } from '../types.ts';
import { aimFactor, currentStanding, rateOf, ratesSeen, standing, type RateStanding } from './learning-rate.ts';
import { field, finiteLosses, fmt, isFiniteNumber, median, num, trainLoss } from './util.ts';

/** A flush is good while its loss is at most this times the best so far (median of 3). */
const GOOD_OF_BEST = 1.5;
/** A rise of the loss over the flushes before the fault by this factor is a climb (a learning rate too high), not noise. */
const CLIMB = 1.5;
/** A flush whose highest batch loss is this times the last good flush's loss climbed within the flush. */
const CLIMB_WITHIN_FLUSH = 10;
/** Gradients this times their good level in the flush before a NaN blew up (a step too large). */
const GRADIENT_BLOWUP = 10;
/** Clipping at this times the run's usual global gradient norm leaves healthy steps alone. */
const CLIP_HEADROOM = 2;

/** A flush's finite train loss and its step. */
interface LossPoint {
  step: number;
  value: number;
}

/**
 * The last good state before step `before`: the newest flush with a finite train loss at most
 * 1.5x the best so far (the lowest median of 3 flushes up to it) and, when the losses climbed
 * into the fault (the rising run of flushes that ends at the newest one rose 1.5x), not past
 * the foot of that climb. Undefined when no flush qualifies (the fault came first).
 */
export function lastGoodFlush(steps: readonly StepRecord[], before: number): LossPoint | undefined {
  const pts = finiteLosses(steps).filter((p) => p.step < before);
  if (!pts.length) return undefined;
  let best = Infinity;
  const good = pts.map((p, i) => {
    best = Math.min(best, i >= 2 ? median([pts[i - 2]!.value, pts[i - 1]!.value, p.value]) : p.value);
    return p.value <= GOOD_OF_BEST * best + 1e-12;
  });
  let i = climbFoot(pts) ?? pts.length - 1;
  while (i >= 0 && !good[i]) i--;
  return i >= 0 ? pts[i] : undefined;
}

/** The index of the foot of the climb that ends at the newest point, when the losses climbed 1.5x into it. */
function climbFoot(pts: readonly LossPoint[]): number | undefined {
  let foot = pts.length - 1;
  while (foot > 0 && pts[foot - 1]!.value < pts[foot]!.value) foot--;
  return pts[pts.length - 1]!.value > CLIMB * pts[foot]!.value ? foot : undefined;
}

/** The global gradient norm of a flush (the root of the layers' squared norms), when it has layer health. */
function globalGradientNorm(s: StepRecord): number | undefined {
  const layers = Object.values(s.layer_health?.layers ?? {});
  const norms = layers.map((h) => num(h?.gradient_norm_mean ?? undefined)).filter(isFiniteNumber);
  return norms.length ? Math.sqrt(norms.reduce((a, g) => a + g * g, 0)) : undefined;
}

/** The usual global gradient norm of the flushes up to step `upTo` (their median), when they say. */
function usualGradientNorm(steps: readonly StepRecord[], upTo: number): number | undefined {
  const norms = steps.filter((s) => s.step_index <= upTo).slice(-20).map(globalGradientNorm).filter(isFiniteNumber);
  return norms.length ? median(norms) : undefined;
}

/** The learning rate a flush trained with, when the observer says (`observer.learning_rate` of the step record). */
const learningRate = rateOf;

/** A rise of the learning rate (by the observer's own figures): from what, to what, first at which step. */
interface LearningRateRise {
  from: number;
  to: number;
  at: number;
}

/**
 * The learning rate rose 1.5x or more before the fault, by the observer's own figures: the
 * newest flush up to `upTo` trained with at least 1.5x the rate of an earlier one. Undefined
 * when it did not, or nobody said.
 */
function learningRateRise(steps: readonly StepRecord[], upTo: number): LearningRateRise | undefined {
  const known = steps.filter((s) => s.step_index <= upTo && learningRate(s) !== undefined);
  if (known.length < 2) return undefined;
  const to = learningRate(known[known.length - 1]!)!;
  for (let k = known.length - 2; k >= 0; k--) {
    const from = learningRate(known[k]!)!;
    if (to >= 1.5 * from) return { from, to, at: known[k + 1]!.step_index };
  }
  return undefined;
}

/**
 * The last good state before a fault at `step`, and the rise of the learning rate before it
 * (if the observer's figures show one): then the last good flush is one from before the rise.
 */
function beforeFault(ctx: DiagnosticContext, step: number): { good: LossPoint | undefined; rise: LearningRateRise | undefined } {
  const rise = learningRateRise(ctx.steps, step);
  return { good: lastGoodFlush(ctx.steps, rise ? Math.min(step, rise.at) : step), rise };
}

/**
 * Lower the learning rate after a fault of steps too large: by `factor`; when the rate is
 * far above its optimizer's usual range, to the typical rate; when it rose before the fault,
 * back to where it was (at least 10x lower).
 */
function lowerLearningRate(i: Issue, rise: LearningRateRise | undefined, factor: number, fit: number, why: string, ctx: DiagnosticContext): Remedy {
  if (!rise) {
    const where = currentStanding(ctx, i.epochIndex ?? Infinity);
    if (where?.side === 'high') return aimAt(where, i, Math.max(fit, 0.9), why);
    return scaleBy(factor, i, fit, why);
  }
  const back = Math.max(nice(Math.min(0.1, rise.from / rise.to)), 1e-4);
  return scaleBy(back, i, Math.max(fit, 0.95), `the learning rate rose from ${fmt(rise.from)} to ${fmt(rise.to)} at step ${rise.at}, and the loss broke after it: back to ${fmt(rise.to * back)}`);
}

/** To the typical rate of the optimizer, from a rate far outside its usual range. */
function aimAt(where: Exclude<RateStanding, undefined | { side: 'usual' }>, i: Issue, fit: number, why: string): Remedy {
  const { usual, rate } = where;
  return scaleBy(
    nice(aimFactor(where)!),
    i,
    fit,
    `${why}; ${usual.name}'s rate of ${fmt(rate)} is ${fmt(where.times)}x ${where.side === 'high' ? 'above' : 'below'} its usual range (${fmt(usual.low)}-${fmt(usual.high)}): to ${fmt(usual.typical)}, its typical rate`,
  );
}

/** Two significant digits: a norm a person reads and an optimizer takes. */
const nice = (v: number): number => Number(v.toPrecision(2));

/** A remedy's confidence: the issue's, times how well the remedy fits what was seen, within 0.5-1. */
const sure = (i: Issue, fit: number): number => Math.round(100 * Math.min(1, Math.max(0.5, i.confidence * fit))) / 100;

const remedy = (action: RemedyAction, reason: string, confidence: number): Remedy => ({ ...action, reason, confidence });

/**
 * Roll back to the last good flush; when there is none (the fault came with the first
 * steps), to the state the run started with.
 */
function rollbackTo(good: LossPoint | undefined, i: Issue, fit: number, why: string): Remedy[] {
  if (!good) return [startOver(i, fit, 'no flush before the fault was good')];
  return [remedy({ kind: 'rollback', toStep: good.step }, `Roll back to step ${good.step}: the loss there was ${fmt(good.value)}, ${why}`, sure(i, fit))];
}

function startOver(i: Issue, fit: number, why: string): Remedy {
  return remedy({ kind: 'rollback', toStep: START_OF_RUN }, `Roll back to the start of the run (the weights it began with): ${why}`, sure(i, fit));
}

/**
 * Whether the learning rate has been far above its optimizer's usual range since the first
 * flush and the loss never fell well below where it started (under 0.8x): then no state of
 * the run is worth returning to but its start (a rate this high may have killed units while
 * the loss looked flat).
 */
function ruinedFromStart(ctx: DiagnosticContext, upTo: number): boolean {
  const seen = ratesSeen(ctx, ctx.early);
  if (!seen.length || seen[0]!.step !== ctx.early[0]?.step_index) return false;
  if (!seen.filter((r) => r.step <= upTo).every((r) => standing(r.rate, r.optimizer)?.side === 'high')) return false;
  const first = trainLoss(ctx.early[0]!);
  const firstMin = num(ctx.early[0]!.loss?.train_min ?? undefined);
  const start = Math.min(isFiniteNumber(first) ? first : Infinity, isFiniteNumber(firstMin) ? firstMin : Infinity);
  const best = ctx.bestLoss?.value;
  return Number.isFinite(start) && (best === undefined || best >= 0.8 * start);
}

/** The last good state before a fault at `step` (the start of the run when the rate was far too high all along), and a rise of the rate before it. */
function goodStateBefore(ctx: DiagnosticContext, step: number): { good: LossPoint | undefined; rise: LearningRateRise | undefined; fromStart: boolean } {
  const fromStart = ruinedFromStart(ctx, step);
  const { good, rise } = beforeFault(ctx, step);
  return { good: fromStart ? undefined : good, rise, fromStart };
}

/**
 * Clipping beside a lower learning rate, unless the rate is far above its optimizer's range:
 * then the rate is the cause, set to the typical rate, and a clip (at a default norm, with no
 * healthy flush to measure one) would only slow the run it restarts.
 */
function clipUnlessAimed(ctx: DiagnosticContext, i: Issue, clip: () => Remedy): Remedy[] {
  return currentStanding(ctx, i.epochIndex ?? Infinity)?.side === 'high' ? [] : [clip()];
}

function clipAt(steps: readonly StepRecord[], upTo: number | undefined, i: Issue, fit: number, why: string): Remedy {
  const usual = upTo === undefined ? undefined : usualGradientNorm(steps, upTo);
  // Within what a resume accepts (REMEDY_LIMITS): a proposal the server itself would refuse is no proposal.
  const maxNorm = usual && usual > 0 ? Math.min(Math.max(nice(CLIP_HEADROOM * usual), 1e-3), REMEDY_LIMITS.maxNorm) : 1;
  const basis = usual && usual > 0 ? `${CLIP_HEADROOM}x the usual global gradient norm of ${fmt(usual)}` : 'a safe default when the run reports no gradient norms';
  return remedy({ kind: 'clip_gradients', maxNorm }, `Clip gradients to a global norm of ${maxNorm} (${basis}): ${why}`, sure(i, fit));
}

function scaleBy(wanted: number, i: Issue, fit: number, why: string): Remedy {
  const factor = Math.min(Math.max(wanted, REMEDY_LIMITS.minFactor), REMEDY_LIMITS.maxFactor);
  const action: RemedyAction = { kind: 'scale_learning_rate', factor };
  const words = describeAction(action);
  return remedy(action, `${words[0]!.toUpperCase()}${words.slice(1)}: ${why}`, sure(i, fit));
}

/**
 * A NaN or infinite train loss. When the loss climbed into it (over the flushes before, or
 * within its flush), or the gradients blew up the flush before, the step was too large: roll
 * back and lower the learning rate 10x (and clip). When the loss was finite and steady up to
 * it, one batch broke it: roll back and skip that batch.
 */
function nonFiniteLoss(i: Issue, ctx: DiagnosticContext): Remedy[] {
  const key = Object.keys(i.metricValue ?? {})[0] ?? '';
  const step = i.epochIndex ?? Infinity;
  const { good, rise } = goodStateBefore(ctx, step);
  if (!key.startsWith('train')) return rollbackTo(good, i, 0.6, 'the validation loss was finite until then');
  const pts = finiteLosses(ctx.steps).filter((p) => p.step < step);
  const bad = ctx.steps.find((s) => s.step_index === step);
  const max = num(bad?.loss?.train_max ?? undefined);
  const climbedBefore = pts.length >= 2 && climbFoot(pts) !== undefined;
  const climbedWithin = good !== undefined && isFiniteNumber(max) && max > CLIMB_WITHIN_FLUSH * Math.abs(good.value);
  const before = [...ctx.steps].reverse().find((s) => s.step_index < step && globalGradientNorm(s) !== undefined);
  const usual = good ? usualGradientNorm(ctx.steps, good.step) : undefined;
  const norm = before ? globalGradientNorm(before) : undefined;
  const blewUp = usual !== undefined && norm !== undefined && usual > 0 && norm > GRADIENT_BLOWUP * usual;
  if (climbedBefore || climbedWithin || blewUp || rise) {
    const seen = rise
      ? `the learning rate rose from ${fmt(rise.from)} to ${fmt(rise.to)} at step ${rise.at}`
      : climbedBefore
        ? `the loss climbed to ${fmt(pts[pts.length - 1]!.value)} before it broke`
        : climbedWithin
          ? `a batch of the broken flush reached ${fmt(max!)}`
          : `the global gradient norm reached ${fmt(norm!)}, ${fmt(norm! / usual!)}x its usual ${fmt(usual!)}`;
    return [
      ...rollbackTo(good, i, 0.95, `finite and steady until the steps grew too large (${seen})`),
      lowerLearningRate(i, rise, 0.1, 0.9, `${seen}: the learning rate is too high for this point of the run`, ctx),
      ...clipUnlessAimed(ctx, i, () => clipAt(ctx.steps, good?.step, i, 0.6, 'so that one large step cannot break the weights again')),
    ];
  }
  // Non-finite before, finite in between, and again now: the data keeps breaking it (NaN in
  // every batch from some point, a broken preprocessing); skipping one batch is no fix.
  if (brokeBefore(ctx.steps, step)) return [];
  const trainingStep = field(bad?.observer, 'first_non_finite_step') ?? num(bad?.loss?.first_non_finite_step ?? undefined) ?? null;
  return [
    ...rollbackTo(good, i, 0.95, `finite and steady until one batch broke it (no climb before step ${step})`),
    remedy(
      { kind: 'skip_batch', atStep: Number.isFinite(step) ? step : null, trainingStep },
      `Skip the batch that broke at step ${step}${trainingStep !== null ? ` (training step ${trainingStep})` : ''}: the loss was finite and steady until then, so one batch (bad data or a numerical edge) made it non-finite`,
      sure(i, 0.8),
    ),
  ];
}

/** Whether the train loss was non-finite at a flush before `step`, with a finite one after it (the run went on, and broke again). */
function brokeBefore(steps: readonly StepRecord[], step: number): boolean {
  const before = steps.filter((s) => s.step_index < step);
  const k = before.findIndex((s) => { const v = trainLoss(s); return v !== undefined && !Number.isFinite(v); });
  return k >= 0 && before.slice(k + 1).some((s) => isFiniteNumber(trainLoss(s)));
}

/** The loss explodes (critical) or diverges (warning): roll back to before the climb and lower the learning rate. */
function divergingLoss(i: Issue, ctx: DiagnosticContext): Remedy[] {
  const exploding = i.severity === 'critical';
  const step = i.epochIndex ?? Infinity;
  const { good, rise } = goodStateBefore(ctx, step);
  const current = field(i.metricValue, 'loss');
  const seen = current !== undefined ? `it climbed to ${fmt(current)} at step ${step}` : 'it climbed';
  return [
    ...rollbackTo(good, i, exploding ? 0.95 : 0.8, `before ${seen}`),
    lowerLearningRate(i, rise, exploding ? 0.1 : 0.3, exploding ? 0.9 : 0.8, `the loss ${exploding ? 'explodes' : 'diverges'} (${seen}): the learning rate is too high`, ctx),
    ...(exploding ? clipUnlessAimed(ctx, i, () => clipAt(ctx.steps, good?.step, i, 0.6, 'so that the large steps of the climb cannot come back')) : []),
  ];
}

/** Diverged, or collapsed to chance or to its start: back to the last good state, a lower learning rate. */
function ruinedRun(i: Issue, ctx: DiagnosticContext): Remedy[] {
  const diverged = field(i.metricValue, 'first_flushes_max') !== undefined;
  const { good, rise } = goodStateBefore(ctx, i.epochIndex ?? Infinity);
  return [
    ...rollbackTo(good, i, 0.9, diverged ? 'before it diverged' : 'before what it learned was lost'),
    lowerLearningRate(i, rise, diverged ? 0.1 : 0.3, 0.85, diverged ? 'the run diverged: the learning rate is far too high' : 'large steps undid what the run learned: the learning rate is too high', ctx),
  ];
}

/** The gradients of a layer explode while the loss does not improve: roll back to before they rose, clip. */
function explodingGradients(i: Issue, ctx: DiagnosticContext): Remedy[] {
  const baseline = field(i.metricValue, 'baseline');
  const layer = i.layerId ?? '';
  const grad = (s: StepRecord) => num(s.layer_health?.layers?.[layer]?.gradient_norm_mean ?? undefined);
  // The first of the newest flushes whose gradients were far above the layer's reference.
  let onset = i.epochIndex ?? Infinity;
  for (let k = ctx.steps.length - 1; k >= 0; k--) {
    const g = grad(ctx.steps[k]!);
    if (!isFiniteNumber(g) || baseline === undefined || g <= GRADIENT_BLOWUP * baseline) break;
    onset = ctx.steps[k]!.step_index;
  }
  const good = lastGoodFlush(ctx.steps, onset);
  const why = `the gradients of '${layer}' reached ${fmt(field(i.metricValue, 'gradient_norm') ?? Number.NaN)}${baseline !== undefined ? `, ${fmt((field(i.metricValue, 'gradient_norm') ?? 0) / baseline)}x their reference` : ''}`;
  return [...rollbackTo(good, i, 0.85, `before ${why}`), clipAt(ctx.steps, good?.step ?? onset - 1, i, 0.95, why)];
}

/** A layer's numbers went NaN or infinite: the weights are broken from there; roll back, lower the learning rate, clip. */
function nonFiniteLayer(i: Issue, ctx: DiagnosticContext): Remedy[] {
  const good = lastGoodFlush(ctx.steps, i.epochIndex ?? Infinity);
  const why = `layer '${i.layerId ?? '?'}' went non-finite at step ${i.epochIndex ?? '?'}`;
  return [
    ...rollbackTo(good, i, 0.9, `before ${why}`),
    lowerLearningRate(i, undefined, 0.1, 0.8, `${why}: the steps are too large`, ctx),
    ...clipUnlessAimed(ctx, i, () => clipAt(ctx.steps, good?.step, i, 0.7, why)),
  ];
}

/**
 * The loss is flat at the start of a run from scratch. A rate far below its optimizer's usual
 * range moves nothing: to the typical rate. A rate far above it leaves the loss flat too
 * (units killed by the first steps): back to the start, to the typical rate. A rate within
 * the range: 10x, a guess (the cause may be elsewhere).
 */
function plateau(i: Issue, ctx: DiagnosticContext): Remedy[] {
  const loss = field(i.metricValue, 'loss');
  const flat = `the loss is still ${loss !== undefined ? fmt(loss) : 'where it started'} after many steps`;
  const where = currentStanding(ctx, i.epochIndex ?? Infinity);
  if (where?.side === 'low') return [aimAt(where, i, 0.9, `${flat}: steps this small move nothing`)];
  if (where?.side === 'high') return [startOver(i, 0.85, `${flat}: steps this large damaged the weights (units killed or saturated) from the first steps`), aimAt(where, i, 0.9, `${flat} because the steps are far too large`)];
  return [scaleBy(10, i, where ? 0.6 : 0.8, `${flat}: a learning rate too low leaves a new model flat`)];
}

/** The learning rate is far outside its optimizer's range from the start, and the loss does not learn: to the typical rate (back to the start when it is far too high). */
function rateFarOff(i: Issue, ctx: DiagnosticContext): Remedy[] {
  const where = currentStanding(ctx, i.epochIndex ?? Infinity);
  if (!where || where.side === 'usual') return [];
  const aimed = aimAt(where, i, 0.95, 'the loss has not learned since the start');
  if (where.side === 'low') return [aimed];
  return [startOver(i, 0.9, 'steps this large may have damaged the weights from the first steps, while the loss looked flat'), aimed];
}

/** Validation loss not improving while the train loss does not fall either (not memorising): learning too slowly. */
function noGeneralisation(i: Issue, ctx: DiagnosticContext): Remedy[] {
  const train = field(i.metricValue, 'train_loss');
  const first = field(i.metricValue, 'first_train_loss');
  if (train === undefined || first === undefined || train < 0.8 * first) return [];
  const why = `neither the train loss (${fmt(train)}, from ${fmt(first)}) nor the validation loss moved`;
  const where = currentStanding(ctx, i.epochIndex ?? Infinity);
  if (where?.side === 'low') return [aimAt(where, i, 0.85, why)];
  if (where?.side === 'high') return [];
  return [scaleBy(10, i, where ? 0.5 : 0.7, `${why}: the learning rate may be far too low`)];
}

/** The loss swings instead of settling: steps too large for the valley. */
function oscillating(i: Issue): Remedy[] {
  return [scaleBy(0.3, i, 0.85, 'the loss bounces instead of settling: the steps overshoot')];
}

/** The validation loss rises while the train loss falls: back to the best validation loss (early stopping). */
function validationGap(i: Issue, ctx: DiagnosticContext): Remedy[] {
  const best = field(i.metricValue, 'best_val_loss');
  const at = ctx.steps.find((s) => Object.values(s.loss?.val ?? {}).some((v) => v === best));
  if (!at || best === undefined) return [];
  return [remedy({ kind: 'rollback', toStep: at.step_index }, `Roll back to step ${at.step_index}, where the validation loss was best (${fmt(best)}): it has risen since while the model fits its training data`, sure(i, 0.6))];
}

/** Proposals by issue code. */
const PROPOSALS: Readonly<Record<string, (i: Issue, ctx: DiagnosticContext) => Remedy[]>> = {
  'loss.non_finite': nonFiniteLoss,
  'loss.diverging': divergingLoss,
  'loss.ruined': ruinedRun,
  'layer.exploding_gradients': explodingGradients,
  'layer.non_finite': nonFiniteLayer,
  'loss.plateau': plateau,
  'loss.learning_rate_too_high': rateFarOff,
  'loss.learning_rate_too_low': rateFarOff,
  'loss.no_generalisation': noGeneralisation,
  'loss.oscillating': oscillating,
  'loss.validation_gap': validationGap,
};

/** The remedies that apply to an issue, in the order an observer applies them (none for most issues). */
export function proposeRemedies(i: Issue, ctx: DiagnosticContext): Remedy[] {
  const propose = PROPOSALS[i.code];
  return propose ? inApplyOrder(propose(i, ctx)) : [];
}

/**
 * Issues with their remedies attached. A proposal that throws leaves its issue without
 * remedies (the prose suggestion stands) rather than losing the run.
 */
export function withRemedies(issues: readonly Issue[], ctx: DiagnosticContext): Issue[] {
  return issues.map((i) => {
    try {
      return { ...i, remedies: proposeRemedies(i, ctx) };
    } catch {
      return { ...i, remedies: [] };
    }
  });
}
