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

/** The values sorted ascending (a typed array sorts numerically without a comparator; NaN last). */
const sorted = (xs: readonly number[]): Float64Array => Float64Array.from(xs).sort();

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return Number.NaN;
  const s = sorted(xs);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** The `q` quantile (0-1) of the values, by the nearest rank below. */
export function quantile(xs: readonly number[], q: number): number {
  if (xs.length === 0) return Number.NaN;
  const s = sorted(xs);
  return s[Math.min(s.length - 1, Math.floor(q * (s.length - 1)))]!;
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

/** A flush (or several merged) covering at least this many training steps, or this many samples, for the rules that compare flush to flush. */
export const MIN_BATCHES_PER_POINT = 4;
export const MIN_SAMPLES_PER_POINT = 64;

const mergedMemo = new WeakMap<readonly StepRecord[], readonly { step: number; value: number }[]>();

/**
 * The finite train losses of the steps as points covering at least 4 training steps or 64
 * samples each (`throughput.samples_processed`: a full batch of 720 is its own point):
 * consecutive flushes merged (their means weighted by `num_batches`), grouped back from the
 * newest flush, which ends the last point; an incomplete group at the old end is dropped.
 * A flush of one small batch is one batch's loss: comparing such flushes one by one compares
 * batches, and over hundreds of flushes batch noise alone would pass any threshold somewhere.
 * Flushes of 4 steps or more are their own points, as before.
 */
export function lossPoints(steps: readonly StepRecord[]): readonly { step: number; value: number }[] {
  let out = mergedMemo.get(steps);
  if (out) return out;
  const points: { step: number; value: number }[] = [];
  let [sum, batches, samples, end] = [0, 0, 0, -1];
  for (let i = steps.length - 1; i >= 0; i--) {
    const s = steps[i]!;
    const v = trainLoss(s);
    if (!isFiniteNumber(v)) continue;
    const n = Math.max(1, num(s.loss?.num_batches ?? undefined) ?? 1);
    if (batches === 0) end = s.step_index;
    sum += v * n;
    batches += n;
    samples += field(s.throughput, 'samples_processed') ?? 0;
    if (batches >= MIN_BATCHES_PER_POINT || samples >= MIN_SAMPLES_PER_POINT) {
      points.push({ step: end, value: sum / batches });
      [sum, batches, samples] = [0, 0, 0];
    }
  }
  mergedMemo.set(steps, (out = points.reverse()));
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

/** Above this ratio of a flush's mean to its lowest batch, the loss climbed within the flush (orders of magnitude, not batch noise). */
const CLIMBED_WITHIN_FLUSH = 1000;

/**
 * The loss this run started from: the mean of its first flush (a new model's losses are all
 * near ln K at first, whatever the batch), or, for a resumed or fine-tuned run, the median of
 * its first three flushes' means (one batch of a trained model can be far below the rest).
 * Never one flush's lowest batch, which is batch noise on an imbalanced task, except when a
 * new model's first flush's mean is 1000x it: then the loss climbed by orders of magnitude
 * within that flush (a learning rate far too high), and its lowest batch is where it started.
 * (A trained model's batches spread over orders of magnitude: not for a resumed run.)
 */
export function startLoss(ctx: DiagnosticContext): number | undefined {
  const firsts = ctx.early.filter((s) => isFiniteNumber(trainLoss(s))).slice(0, 3);
  if (!firsts.length) return undefined;
  const first = firsts[0]!;
  const mean = trainLoss(first)!;
  const min = num(first.loss?.train_min ?? undefined);
  if (startKind(ctx) !== 'scratch') return median(firsts.map((s) => trainLoss(s)!));
  return isFiniteNumber(min) && min > 0 && mean > CLIMBED_WITHIN_FLUSH * min ? min : mean;
}

/** How a run started, as its registration says: from scratch unless told otherwise. */
type StartKind = 'scratch' | 'resumed' | 'fine_tuned';

const RESUMED = /resum|checkpoint|continu/i;
const FINE_TUNED = /fine|transfer|pretrain/i;

/**
 * How the run started, from the model's hyperparameters or architecture at registration:
 * `start` ('scratch', 'resumed', 'fine_tuned', or words like 'checkpoint', 'transfer'), or a
 * non-zero `initial_step`/`initial_epoch`, or a `resumed_from`/`checkpoint` path. A rule whose
 * reference is the run's first loss (near chance for a new model) needs a run from scratch.
 */
export function startKind(ctx: Pick<DiagnosticContext, 'model'>): StartKind {
  for (const o of [ctx.model?.hyperparameters, ctx.model?.architecture]) {
    if (!o) continue;
    const start = o.start ?? o.training_start;
    if (typeof start === 'string') {
      if (FINE_TUNED.test(start)) return 'fine_tuned';
      if (RESUMED.test(start)) return 'resumed';
      if (/scratch/i.test(start)) return 'scratch';
    }
    if ((num(o.initial_step) ?? 0) > 0 || (num(o.initial_epoch) ?? 0) > 0) return 'resumed';
    if (typeof o.resumed_from === 'string' || typeof o.checkpoint === 'string') return 'resumed';
  }
  return 'scratch';
}

/** Medians of every `k` consecutive values (a smoothed series: one lucky flush does not set a record). */
export function rollingMedian(values: readonly number[], k: number): number[] {
  if (values.length < k) return [];
  // Each window insertion-sorted into one buffer: the rules call this on every run over the
  // whole window, and a copy and a sort per position cost more than the rules themselves.
  const out = new Array<number>(values.length - k + 1);
  const buf = new Float64Array(k);
  for (let i = 0; i < out.length; i++) {
    for (let j = 0; j < k; j++) {
      const v = values[i + j]!;
      let p = j;
      while (p > 0 && buf[p - 1]! > v) buf[p] = buf[--p]!;
      buf[p] = v;
    }
    out[i] = k % 2 ? buf[k >> 1]! : (buf[(k >> 1) - 1]! + buf[k >> 1]!) / 2;
  }
  return out;
}

/**
 * Whether the gradients are growing over these flushes: for some layer, the median gradient
 * norm of its last 3 flushes with layer health is at least `factor` times that of its first
 * 3. A small initialisation leaves the loss flat while the gradients grow, until learning
 * starts: a plateau that is ending, not a model that cannot learn.
 */
export function gradientsGrowing(steps: readonly StepRecord[], factor = 2): { layer: string; from: number; to: number } | undefined {
  const byLayer = new Map<string, number[]>();
  for (const s of steps)
    for (const [name, h] of Object.entries(s.layer_health?.layers ?? {})) {
      const g = num(h?.gradient_norm_mean ?? undefined);
      if (!isFiniteNumber(g)) continue;
      const list = byLayer.get(name) ?? [];
      list.push(g);
      byLayer.set(name, list);
    }
  for (const [layer, g] of byLayer) {
    if (g.length < 6) continue;
    const from = median(g.slice(0, 3));
    const to = median(g.slice(-3));
    if (from > 0 && to >= factor * from) return { layer, from, to };
  }
  return undefined;
}
