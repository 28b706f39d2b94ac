import type { JsonObject, JsonValue } from '../../lib/extended-json.ts';
import type { DiagnosticContext, Issue, StepRecord } from '../types.ts';

/** The value as a number when it is one (non-finite included), else undefined. */
export function num(v: JsonValue | undefined): number | undefined {
  return typeof v === 'number' ? v : undefined;
}

/** A numeric field of a channel object. */
export function field(obj: JsonObject | null | undefined, key: string): number | undefined {
  return obj ? num(obj[key]) : undefined;
}

export const isNonFinite = (v: number | null | undefined): v is number => typeof v === 'number' && !Number.isFinite(v);
export const isFiniteNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Median absolute deviation. */
export function mad(xs: readonly number[]): number {
  const m = median(xs);
  return median(xs.map((x) => Math.abs(x - m)));
}

/** The train loss of a step, when it has one. */
export const trainLoss = (s: StepRecord): number | undefined => num(s.loss?.train_mean ?? undefined);

const lossMemo = new WeakMap<readonly StepRecord[], readonly { step: number; value: number }[]>();

/**
 * Finite train losses of the steps, with their step indexes. Several rules ask for the same
 * window in one run, so the answer is kept per steps array (callers must not mutate it).
 */
export function finiteLosses(steps: readonly StepRecord[]): readonly { step: number; value: number }[] {
  let out = lossMemo.get(steps);
  if (!out) {
    const list: { step: number; value: number }[] = [];
    for (const s of steps) {
      const v = trainLoss(s);
      if (isFiniteNumber(v)) list.push({ step: s.step_index, value: v });
    }
    lossMemo.set(steps, (out = list));
  }
  return out;
}

/**
 * The last `n` finite train losses, oldest first, scanning back from the newest step: the
 * per-step rules need a few recent values, not the whole window.
 */
export function lastFiniteLosses(steps: readonly StepRecord[], n: number): { step: number; value: number }[] {
  const out: { step: number; value: number }[] = [];
  for (let i = steps.length - 1; i >= 0 && out.length < n; i--) {
    const v = trainLoss(steps[i]!);
    if (isFiniteNumber(v)) out.push({ step: steps[i]!.step_index, value: v });
  }
  return out.reverse();
}

/** Formats a number for an issue's text: 4 significant digits, or NaN/Infinity as is. */
export function fmt(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (v !== 0 && (Math.abs(v) >= 1e5 || Math.abs(v) < 1e-3)) return v.toExponential(2);
  return String(Number(v.toPrecision(4)));
}

/** How many of the last `m` values satisfy `pred`. */
export function countLast<T>(xs: readonly T[], m: number, pred: (x: T) => boolean): number {
  let n = 0;
  for (const x of xs.slice(-m)) if (pred(x)) n++;
  return n;
}

/**
 * How sure a rule is of an issue, 0.5-1, from two kinds of evidence:
 * - `margin`: how far past its threshold the measurement is, as a ratio of at least 1
 *   (value / threshold, or threshold / value for a "below" rule); `decisive` is the ratio at
 *   which there is no doubt left (default 4), read on a log scale;
 * - `seen` of `of`: in how many of the flushes the rule looked at the sign was there.
 * 0.5 means just at the threshold, or seen in the fewest flushes the rule accepts; each kind
 * given counts for half of what is above 0.5. Facts (a NaN, a configuration that cannot
 * work) are 1 without this.
 */
export function confidence(e: { margin?: number; decisive?: number; seen?: number; of?: number; minSeen?: number }): number {
  const parts: number[] = [];
  if (e.margin !== undefined) {
    const decisive = e.decisive ?? 4;
    // An infinite ratio (a threshold over zero) is decisive; an unknown one (NaN) adds nothing.
    const m = Number.isNaN(e.margin) ? 1 : e.margin === Infinity ? decisive : e.margin;
    parts.push(Math.min(1, Math.max(0, Math.log(Math.max(m, 1)) / Math.log(decisive))));
  }
  if (e.seen !== undefined && e.of !== undefined && e.of > 0) {
    const min = e.minSeen ?? 0;
    parts.push(e.of > min ? Math.min(1, Math.max(0, (e.seen - min) / (e.of - min))) : 1);
  }
  const strength = parts.length ? parts.reduce((a, b) => a + b, 0) / parts.length : 1;
  return Math.round(100 * (0.5 + 0.5 * strength)) / 100;
}

/** Shorthand for building an issue with the step it is about. */
export function issue(i: Issue): Issue {
  return { layerId: null, epochIndex: null, metricValue: null, ...i };
}

export const lastStep = (steps: readonly StepRecord[]): StepRecord | undefined => steps[steps.length - 1];

/**
 * The loss this run started from: the lowest of its first flush with a finite loss (its mean,
 * or its min when the loss already climbed within that flush), near ln K for a classifier at chance.
 */
export function startLoss(ctx: DiagnosticContext): number | undefined {
  const first = ctx.early.find((s) => isFiniteNumber(trainLoss(s)));
  if (!first) return undefined;
  const mean = trainLoss(first)!;
  const min = num(first.loss?.train_min ?? undefined);
  return isFiniteNumber(min) ? Math.min(mean, min) : mean;
}
