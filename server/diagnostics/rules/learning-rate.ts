import type { JsonObject } from '../../lib/extended-json.ts';
import type { DiagnosticContext, Issue, Rule, StepRecord } from '../types.ts';
import { confidence, field, finiteLosses, fmt, isFiniteNumber, issue, lastFiniteLosses, median, num, startKind } from './util.ts';

/**
 * What the rules know of learning rates: the range people use with each optimizer, the rate a
 * run trains with (the observer sends it with every flush; a client that does not may name it
 * in its hyperparameters), and a rule for a rate far outside the usual range from the start
 * while the loss does not learn.
 */

/**
 * The learning rates people use with an optimizer: `low`-`high` covers the published
 * defaults and the usual tuning ranges (small models trained from scratch up to fine-tuning
 * large ones); `typical` is the rate to aim at when the run's rate is far outside it: the
 * libraries' default (Keras, PyTorch, tfjs), except plain SGD, where the classic 0.1 of small
 * networks is used (Keras's 0.01 is its cautious end).
 */
export interface UsualRate {
  /** The optimizer, as a person names it. */
  name: string;
  low: number;
  high: number;
  typical: number;
}

const USUAL: Readonly<Record<string, UsualRate>> = {
  sgd: { name: 'SGD', low: 1e-3, high: 1, typical: 0.1 },
  momentum: { name: 'SGD with momentum', low: 1e-4, high: 0.3, typical: 0.01 },
  adam: { name: 'Adam', low: 1e-5, high: 1e-2, typical: 1e-3 },
  adamw: { name: 'AdamW', low: 1e-5, high: 1e-2, typical: 1e-3 },
  adamax: { name: 'Adamax', low: 1e-5, high: 2e-2, typical: 2e-3 },
  nadam: { name: 'Nadam', low: 1e-5, high: 1e-2, typical: 2e-3 },
  rmsprop: { name: 'RMSProp', low: 1e-5, high: 1e-2, typical: 1e-3 },
  adagrad: { name: 'Adagrad', low: 1e-3, high: 1, typical: 1e-2 },
  adadelta: { name: 'Adadelta', low: 1e-4, high: 10, typical: 1 },
};

/** "Far" outside the usual range: this many times past its end (the range itself is already wide). */
export const FAR_OUTSIDE = 10;

/** The usual range of an optimizer by the name a client gives ('Adam', 'AdamOptimizer', 'rmsprop', 'SGD'...), when known. */
export function usualRate(optimizer: string | undefined): UsualRate | undefined {
  if (!optimizer) return undefined;
  const key = optimizer.toLowerCase().replace(/[^a-z]/g, '').replace(/optimizer$/, '');
  return USUAL[key === 'sgdmomentum' || key === 'nesterov' ? 'momentum' : key];
}

/** The rate a flush trained with, and its optimizer, as the client said. */
export interface RateSeen {
  rate: number;
  optimizer: string | undefined;
  step: number;
}

const text = (o: JsonObject | null | undefined, key: string): string | undefined => {
  const v = o?.[key];
  return typeof v === 'string' ? v : undefined;
};

/** The learning rate of a flush (`observer.learning_rate`), when the observer said. */
export function rateOf(s: StepRecord): number | undefined {
  const lr = field(s.observer, 'learning_rate');
  return isFiniteNumber(lr) && lr > 0 ? lr : undefined;
}

/** The optimizer of the run: the observer's `observer.optimizer` of the newest flush that says, else the hyperparameters' `optimizer`. */
function optimizerName(ctx: Pick<DiagnosticContext, 'model'>, s?: StepRecord): string | undefined {
  return text(s?.observer, 'optimizer') ?? text(ctx.model?.hyperparameters, 'optimizer');
}

/**
 * The rate of each flush that says (or, when none does, the hyperparameters' `learning_rate`
 * for every flush: a client that sends no rate is taken at its word), with the optimizer.
 */
export function ratesSeen(ctx: Pick<DiagnosticContext, 'model'>, steps: readonly StepRecord[]): RateSeen[] {
  const seen = steps.flatMap((s) => {
    const rate = rateOf(s);
    return rate === undefined ? [] : [{ rate, optimizer: optimizerName(ctx, s), step: s.step_index }];
  });
  if (seen.length) return seen;
  const h = ctx.model?.hyperparameters;
  const rate = num(h?.learning_rate) ?? num(h?.lr);
  if (!isFiniteNumber(rate) || rate <= 0) return [];
  return steps.map((s) => ({ rate, optimizer: optimizerName(ctx), step: s.step_index }));
}

/** Where a rate stands against its optimizer's usual range: far above, far below, or within reach of it. */
export type RateStanding = { side: 'high' | 'low'; usual: UsualRate; rate: number; times: number } | { side: 'usual'; usual: UsualRate; rate: number } | undefined;

export function standing(rate: number, optimizer: string | undefined): RateStanding {
  const usual = usualRate(optimizer);
  if (!usual) return undefined;
  if (rate > FAR_OUTSIDE * usual.high) return { side: 'high', usual, rate, times: rate / usual.high };
  if (rate < usual.low / FAR_OUTSIDE) return { side: 'low', usual, rate, times: usual.low / rate };
  return { side: 'usual', usual, rate };
}

/** The newest rate known up to step `upTo`, and where it stands. */
export function currentStanding(ctx: DiagnosticContext, upTo = Infinity): RateStanding {
  const seen = ratesSeen(ctx, ctx.steps.filter((s) => s.step_index <= upTo));
  const last = seen[seen.length - 1];
  return last ? standing(last.rate, last.optimizer) : undefined;
}

/**
 * The factor that takes a rate far outside its optimizer's range to the typical rate, when
 * it is far outside (undefined otherwise: a rate within reach of the range is changed by the
 * issue's own factor).
 */
export function aimFactor(s: RateStanding): number | undefined {
  return s && s.side !== 'usual' ? s.usual.typical / s.rate : undefined;
}

/** Flushes and training steps the rule needs from the start before it judges. */
const MIN_FLUSHES = 2;
const MIN_STEPS = 10;
/** "Settled": the newest flush's rate within this factor of the one before (not in the middle of a warmup or a decay). */
const SETTLED = 1.5;
/** "Not learning": the newest flushes' loss (median of up to 3) at least this share of where it started. */
const NOT_LEARNING = 0.95;

/**
 * The learning rate has been far outside the usual range of its optimizer (10x past either
 * end) at every flush from the first, on the same side, it has settled (the newest flush's
 * rate within 1.5x of the one before: a warmup towards a rate still far too low counts once
 * it ends), and the loss has not learned (the median of the newest 3 flushes at least 95% of
 * where it started, the lower of the first flush's mean and lowest batch): the rate is the
 * cause, and every further step is wasted, so it is critical and pauses the run with the
 * evidence. A rate far below the range is judged only for a run from scratch (a fine-tuning
 * run may use a tiny rate on purpose, and start at its floor). It needs 2 flushes and 10
 * training steps. A rate that comes into the range (a remedy) ends it.
 */
export const learningRateFarOff: Rule = (ctx) => {
  const early = ctx.early;
  const seen = ratesSeen(ctx, early);
  if (seen.length < MIN_FLUSHES || seen[0]!.step !== early[0]?.step_index) return [];
  const recent = ratesSeen(ctx, ctx.steps.slice(-2));
  const newest = recent[recent.length - 1];
  if (!newest || recent.length < 2 || newest.step !== ctx.steps[ctx.steps.length - 1]?.step_index) return [];
  const previous = recent[0]!.rate;
  if (newest.rate > SETTLED * previous || newest.rate * SETTLED < previous) return [];
  const where = standing(newest.rate, newest.optimizer);
  if (!where || where.side === 'usual') return [];
  if (![...seen, ...recent].every((r) => standing(r.rate, r.optimizer)?.side === where.side)) return [];
  if (where.side === 'low' && startKind(ctx) !== 'scratch') return [];
  const first = finiteLosses(early)[0];
  const last = lastFiniteLosses(ctx.steps, 3).filter((l) => l.step > (first?.step ?? Infinity));
  // Training steps seen (a lower bound when the session outgrew both windows).
  const lastEarly = early[early.length - 1]?.step_index ?? -1;
  const trained = sumBatches(early) + sumBatches(ctx.steps.filter((s) => s.step_index > lastEarly));
  if (!first || !last.length || ctx.totalSteps < MIN_FLUSHES || trained < MIN_STEPS) return [];
  const firstMin = num(early[0]?.loss?.train_min ?? undefined);
  const start = Math.min(first.value, isFiniteNumber(firstMin) ? firstMin : Infinity);
  const tail = median(last.map((l) => l.value));
  if (!(start > 0) || tail < NOT_LEARNING * start) return [];
  return [farOffIssue(where, newest, start, tail, trained, ctx.totalSteps)];
};

/** Training steps of the flushes (each flush's `num_batches`, 1 when it does not say). */
const sumBatches = (steps: readonly StepRecord[]): number => steps.reduce((n, s) => n + (num(s.loss?.num_batches ?? undefined) ?? 1), 0);

function farOffIssue(where: Exclude<RateStanding, undefined | { side: 'usual' }>, newest: RateSeen, start: number, tail: number, trained: number, flushes: number): Issue {
  const { usual, rate } = where;
  const high = where.side === 'high';
  return issue({
    code: high ? 'loss.learning_rate_too_high' : 'loss.learning_rate_too_low',
    severity: 'critical',
    category: 'loss',
    title: high ? 'Learning rate far too high: the model is not learning' : 'Learning rate far too low: the model is not learning',
    description: `${usual.name}'s learning rate is ${fmt(rate)} and has been far from its usual range since the first flush, ${fmt(where.times)}x ${high ? 'above the highest' : 'below the lowest'} usual rate for it (${fmt(usual.low)}-${fmt(usual.high)}; threshold ${FAR_OUTSIDE}x past the range), and in ${trained} training steps (${flushes} flushes) the loss has not learned: ${fmt(tail)} now (median of the newest flushes) against ${fmt(start)} at the start (threshold: below ${NOT_LEARNING * 100}% of it). ${high ? 'Steps this large throw the weights around (or kill the units) instead of descending' : 'Steps this small move nothing'}; every further step is wasted.`,
    suggestion: `Set the learning rate near ${fmt(usual.typical)}, the usual rate for ${usual.name}${high ? ', and start again from the initial weights (they may be damaged)' : ''}; then tune it by factors of 3.`,
    confidence: confidence({ margin: where.times / FAR_OUTSIDE, decisive: 10, seen: tail >= start ? 1 : 0.5, of: 1 }),
    epochIndex: newest.step,
    metricValue: { learning_rate: rate, usual_low: usual.low, usual_high: usual.high, typical: usual.typical, loss: tail, start_loss: start },
  });
}
