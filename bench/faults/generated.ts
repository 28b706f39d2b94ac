/**
 * The generated family of `bench:faults` (issue 13): a seeded generator of training recipes
 * (task, architecture, optimizer, schedule, batch size, flush cadence, start) crossed with
 * fault families, each fault run paired with its healthy twin (same recipe and seed, fault
 * off), which is observed too and counts as a healthy run.
 *
 * How the split is made, so that nobody tunes on the held-out runs:
 * - by seed: the tuning split draws its recipes from seeds 1-999 (`TUNING_SEED_BASE`), the
 *   held-out split from seeds 100,001 on (`HELD_OUT_SEED_BASE`);
 * - by recipe combination: a recipe's (task, architecture, optimizer, start) combination
 *   belongs to one split only, by a hash of its name (`splitOf`): a third of the combinations
 *   are held out. A draw that lands on the other split's combination is drawn again, so the
 *   held-out split trains combinations the tuning split never showed.
 * Rules are changed looking at `--split tuning` only; `--split held-out` is run to report.
 */
import * as tf from '@tensorflow/tfjs';
import type { Expectation, Outcome, Run, Scenario } from './scenarios.ts';
import { blobs, decoupled, imbalanced, mnist, regression, rng, sequence, type Task } from './tasks.ts';

export const SPLITS = ['tuning', 'held-out'] as const;
export type Split = (typeof SPLITS)[number];
export const TUNING_SEED_BASE = 1;
export const HELD_OUT_SEED_BASE = 100_001;

const TASKS = ['mnist14', 'mnist28', 'imbalanced', 'blobs', 'regression', 'sequence'] as const;
const OPTIMIZERS = ['sgd', 'momentum', 'adam', 'rmsprop'] as const;
const SCHEDULES = ['constant', 'warmup', 'step_decay', 'cosine_restarts'] as const;
const STARTS = ['scratch', 'plateau', 'resumed', 'fine_tuned'] as const;
const CADENCES = [1, 2, 5, 10, 20] as const;
const BATCHES = [8, 16, 32, 64, 128] as const;

/** One training recipe, drawn from a seed. */
export interface Recipe {
  task: (typeof TASKS)[number];
  arch: 'mlp' | 'conv' | 'rnn';
  depth: number;
  width: number;
  activation: 'relu' | 'tanh' | 'elu';
  /** A classifier that outputs logits (softmax cross-entropy) rather than probabilities. */
  logits: boolean;
  optimizer: (typeof OPTIMIZERS)[number];
  schedule: (typeof SCHEDULES)[number];
  batchSize: number;
  flushEvery: number;
  /** From scratch; small initialisation (a plateau before learning starts); resumed from a checkpoint; fine-tuned with a frozen base. */
  start: (typeof STARTS)[number];
  steps: number;
}

/** Which split a recipe's combination belongs to (a third held out), from a hash of its name. */
export function splitOf(r: Pick<Recipe, 'task' | 'arch' | 'optimizer' | 'start'>): Split {
  let h = 2166136261;
  for (const ch of `${r.task}/${r.arch}/${r.optimizer}/${r.start}`) h = Math.imul(h ^ ch.charCodeAt(0), 16777619) >>> 0;
  return h % 3 === 0 ? 'held-out' : 'tuning';
}

type Draw = () => number;
const pick = <T>(d: Draw, xs: readonly T[]): T => xs[Math.floor(d() * xs.length)]!;

/** Steps before the observed run for a resumed or fine-tuned start (unobserved pretraining). */
const PRETRAIN_STEPS = 100;

function drawRecipe(d: Draw): Recipe {
  const task = pick(d, TASKS);
  const arch = task === 'mnist14' && d() < 0.4 ? 'conv' : task === 'sequence' && d() < 0.6 ? 'rnn' : 'mlp';
  const flushEvery = pick(d, CADENCES);
  return {
    task,
    arch,
    depth: 1 + Math.floor(d() * 3),
    width: pick(d, [16, 32, 64]),
    activation: pick(d, ['relu', 'relu', 'tanh', 'elu'] as const),
    logits: task !== 'regression' && d() < 0.4,
    optimizer: pick(d, OPTIMIZERS),
    schedule: pick(d, SCHEDULES),
    batchSize: pick(d, BATCHES),
    flushEvery,
    start: pick(d, STARTS),
    steps: Math.min(500, Math.max(120, 30 * flushEvery)),
  };
}

/** A fault family: what it forces on a recipe, how it is planted, what counts as caught. */
interface Family {
  name: string;
  /** The remedy this fault is meant to be fixed by (see `Scenario.fixableBy`). */
  fixableBy?: string;
  timing: 'non_finite' | 'from_start' | 'builds_up';
  /** Forces what the fault needs (a conv net, a ReLU layer, a sparse cadence...). */
  shape?: (r: Recipe, d: Draw) => void;
  /** The step it starts at, from a uniform draw. */
  onset?: (r: Recipe, u: number) => number;
  expect: (r: Recipe) => Expectation;
  plant: (p: Planting) => void;
  manifested: (f: Outcome, twin: Outcome, r: Recipe) => boolean;
}

/** What a family may change on a run being built (the faulty one only). */
interface Planting {
  r: Recipe;
  run: Run;
  task: Task;
  onset: number;
  /** Multiplies the recipe's learning rate (1 = unchanged), read by the schedule at every step. */
  lr: { factor: (step: number) => number };
}

const finalVal = (o: Outcome) => o.valTrace[o.valTrace.length - 1] ?? Number.NaN;
const notScratch = (r: Recipe) => r.start === 'resumed' || r.start === 'fine_tuned';

function busyWait(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until);
}

/** A classifier's or regression's run clearly worse than its twin. */
const worseThanTwin = (f: Outcome, twin: Outcome, r: Recipe, accDrop: number) =>
  f.sawNonFinite || (r.task === 'regression' ? finalVal(f) > 1.5 * finalVal(twin) + 0.05 : f.valAccuracy < twin.valAccuracy - accDrop);

const FAMILIES: Family[] = [
  {
    name: 'learning rate far too high',
    fixableBy: 'scale_learning_rate',
    timing: 'from_start',
    shape: (r) => void (r.arch === 'conv' && (r.arch = 'mlp')),
    expect: () => ({ categories: ['loss', 'layer_health'] }),
    plant: (p) => void (p.lr.factor = () => 300),
    manifested: (f, twin, r) => f.finalLoss > 1.5 * twin.finalLoss + 0.1 || worseThanTwin(f, twin, r, 0.2),
  },
  {
    name: 'learning rate far too high on a conv net',
    fixableBy: 'scale_learning_rate',
    timing: 'from_start',
    // The convolutions must train (a fine-tuned start would freeze them).
    shape: (r) => Object.assign(r, { task: 'mnist14', arch: 'conv', start: r.start === 'fine_tuned' ? 'scratch' : r.start }),
    expect: () => ({ categories: ['loss', 'layer_health'] }),
    plant: (p) => void (p.lr.factor = () => 300),
    manifested: (f, twin, r) => f.finalLoss > 1.5 * twin.finalLoss + 0.1 || worseThanTwin(f, twin, r, 0.2),
  },
  {
    name: 'NaN in the inputs',
    timing: 'non_finite',
    onset: (r, u) => Math.floor(r.steps * (0.3 + 0.3 * u)),
    expect: () => ({ categories: ['loss', 'layer_health'], codes: ['loss.non_finite', 'layer.non_finite'] }),
    plant: (p) => {
      p.run.batch = (step, x) => (step >= p.onset ? (tf.tidy(() => x.add(tf.scalar(Number.NaN))) as tf.Tensor2D) : x);
    },
    manifested: (f) => f.sawNonFinite,
  },
  {
    name: 'labels decoupled from inputs',
    timing: 'builds_up',
    shape: (r) => void (notScratch(r) && (r.start = 'scratch')),
    expect: () => ({ categories: ['loss'] }),
    plant: (p) => void Object.assign(p.task, decoupled(p.task)),
    manifested: (f, twin, r) => worseThanTwin(f, twin, r, 0.2),
  },
  {
    name: 'learning rate far too low',
    fixableBy: 'scale_learning_rate',
    timing: 'builds_up',
    shape: (r) => void (r.start !== 'scratch' && (r.start = 'scratch')),
    expect: () => ({ categories: ['loss'] }),
    plant: (p) => void (p.lr.factor = () => 1e-4),
    manifested: (f, twin) => f.finalLoss > 0.9 * f.initialLoss && twin.finalLoss < 0.8 * twin.initialLoss,
  },
  {
    name: 'variable left out of the optimizer',
    timing: 'from_start',
    shape: (r) => Object.assign(r, { arch: r.arch === 'rnn' ? 'mlp' : r.arch, depth: Math.max(2, r.depth), start: r.start === 'fine_tuned' ? 'scratch' : r.start }),
    expect: (r) => ({ categories: ['layer_health'], layer: r.arch === 'conv' ? 'conv0' : 'hidden0' }),
    plant: (p) => {
      const skipped = new Set(p.run.model.getLayer(p.r.arch === 'conv' ? 'conv0' : 'hidden0').trainableWeights.map((w) => w.name));
      p.run.varList = p.run.model.trainableWeights.filter((w) => !skipped.has(w.name)).map((w) => (w as unknown as { read(): tf.Variable }).read());
    },
    // The fault is the configuration itself: the layer never changes, in every faulty run.
    manifested: () => true,
  },
  {
    name: 'layer frozen by mistake',
    timing: 'from_start',
    shape: (r) => Object.assign(r, { arch: r.arch === 'rnn' ? 'mlp' : r.arch, depth: Math.max(2, r.depth), start: notScratch(r) ? 'scratch' : r.start }),
    expect: (r) => ({ categories: ['architecture', 'layer_health'], layer: r.arch === 'conv' ? 'conv0' : 'hidden0' }),
    plant: (p) => void (p.run.model.getLayer(p.r.arch === 'conv' ? 'conv0' : 'hidden0').trainable = false),
    manifested: () => true,
  },
  {
    name: 'throughput decaying gradually',
    timing: 'builds_up',
    onset: (r, u) => (u < 0.5 ? 0 : Math.floor(0.25 * r.steps)),
    expect: () => ({ categories: ['throughput'] }),
    // Host work per step growing linearly with the run (a list scanned every step), 60 ms more by the end.
    plant: (p) => void (p.run.after = (step) => step >= p.onset && busyWait((60 * (step - p.onset)) / (p.r.steps - p.onset))),
    manifested: (f) => f.msPerStepLate > 2 * f.msPerStepEarly,
  },
  {
    name: 'data loader returns the same batch',
    timing: 'builds_up',
    shape: (r) => Object.assign(r, { batchSize: Math.min(r.batchSize, 32), start: notScratch(r) ? 'scratch' : r.start }),
    onset: (r, u) => (u < 0.5 ? 0 : Math.floor(0.2 * r.steps)),
    expect: () => ({ categories: ['loss'] }),
    plant: (p) => {
      const fixed = (p.onset * p.r.batchSize) % Math.max(1, p.task.xs.shape[0] - p.r.batchSize);
      p.run.batchAt = (step, natural) => (step >= p.onset ? fixed : natural);
    },
    manifested: (f, twin, r) => (r.task === 'regression' ? finalVal(f) > 1.2 * finalVal(twin) : f.valAccuracy < twin.valAccuracy - 0.05 || finalVal(f) > 1.2 * finalVal(twin)),
  },
  {
    name: 'tensor leak, sparse flushes',
    timing: 'builds_up',
    shape: (r, d) => Object.assign(r, { flushEvery: d() < 0.5 ? 10 : 20, steps: 500 }),
    expect: () => ({ categories: ['memory'], codes: ['memory.leak'] }),
    plant: (p) => void (p.run.after = () => void tf.keep(tf.zeros([4]))),
    manifested: (f) => f.tensorGrowth >= 50,
  },
  {
    name: 'flipped gradient sign',
    timing: 'from_start',
    expect: () => ({ categories: ['loss'], codes: ['loss.diverging', 'loss.non_finite', 'loss.ruined'] }),
    plant: (p) => void (p.run.flipGradients = true),
    manifested: (f) => f.sawNonFinite || f.finalLoss > 1.5 * f.initialLoss,
  },
  {
    name: 'learning-rate spike mid-run',
    fixableBy: 'rollback + scale_learning_rate',
    timing: 'builds_up',
    shape: (r) => Object.assign(r, { arch: r.arch === 'rnn' ? 'mlp' : r.arch, activation: 'relu' }),
    onset: (r, u) => Math.floor(r.steps * (0.2 + 0.3 * u)),
    expect: () => ({ categories: ['layer_health', 'loss'] }),
    plant: (p) => void (p.lr.factor = (step) => (step >= p.onset && step < p.onset + 3 ? 1000 : 1)),
    manifested: (f, twin, r) => worseThanTwin(f, twin, r, 0.2),
  },
];

/** The names of the fault families, in report order. */
export const FAMILY_NAMES = FAMILIES.map((f) => f.name);

/** A recipe of the split for a family and seed (drawn again until its combination is the split's). */
export function recipeFor(family: Family, split: Split, seed: number): { recipe: Recipe; onsetDraw: number } {
  const d = rng(seed * 7919 + FAMILIES.indexOf(family) * 104_729 + 17);
  for (;;) {
    const r = drawRecipe(d);
    family.shape?.(r, d);
    if (r.arch === 'conv' && r.task !== 'mnist14') r.arch = 'mlp';
    // Convolutions are slow on the cpu backend: small batches keep a run within seconds.
    if (r.arch === 'conv') r.batchSize = Math.min(r.batchSize, 32);
    // At most 25 epochs: a healthy recipe must not overfit its small training set by design.
    const trained = r.steps + (r.start === 'resumed' || r.start === 'fine_tuned' ? PRETRAIN_STEPS : 0);
    while (r.batchSize > 8 && trained * r.batchSize > 25 * TRAIN_SAMPLES[r.task]) r.batchSize /= 2;
    if (r.arch === 'rnn' && r.task !== 'sequence') r.arch = 'mlp';
    if (splitOf(r) === split) return { recipe: r, onsetDraw: d() };
  }
}

/** Training samples of each task (80% of the set; the rest validates). */
const TRAIN_SAMPLES: Record<Recipe['task'], number> = { mnist14: 800, mnist28: 800, imbalanced: 1600, blobs: 1600, regression: 1600, sequence: 1600 };

const BASE_LR: Record<Recipe['optimizer'], number> = { sgd: 0.1, momentum: 0.02, adam: 0.003, rmsprop: 0.002 };

function makeOptimizer(r: Recipe, lr: number): tf.Optimizer {
  if (r.optimizer === 'sgd') return tf.train.sgd(lr);
  if (r.optimizer === 'momentum') return tf.train.momentum(lr, 0.9);
  if (r.optimizer === 'adam') return tf.train.adam(lr);
  return tf.train.rmsprop(lr);
}

/** The schedule's multiplier at a step of the observed run. */
function schedule(r: Recipe, step: number): number {
  const t = r.steps;
  if (r.schedule === 'warmup') return Math.min(1, (step + 1) / (0.1 * t));
  if (r.schedule === 'step_decay') return step < 0.5 * t ? 1 : 0.3;
  if (r.schedule === 'cosine_restarts') {
    const period = Math.ceil(t / 3);
    return 0.05 + 0.95 * 0.5 * (1 + Math.cos((Math.PI * (step % period)) / period));
  }
  return 1;
}

function setLearningRate(o: tf.Optimizer, lr: number): void {
  const sgd = o as unknown as { setLearningRate?: (lr: number) => void; learningRate: number };
  if (typeof sgd.setLearningRate === 'function') sgd.setLearningRate(lr);
  else sgd.learningRate = lr;
}

function taskOf(r: Recipe, seed: number): Task {
  switch (r.task) {
    case 'mnist14':
      return mnist(seed, 80, 14);
    case 'mnist28':
      return mnist(seed, 80);
    case 'imbalanced':
      return imbalanced(seed, seed % 2 ? [0.7, 0.2, 0.1] : [0.85, 0.15], 2000);
    case 'blobs':
      return blobs(seed, 2000, 4, 8, 1);
    case 'regression':
      return regression(seed, 2000);
    case 'sequence':
      return sequence(seed, 2000);
  }
}

function buildModel(r: Recipe, t: Task, seed: number): tf.LayersModel {
  const small = r.start === 'plateau';
  // A small initialisation (5% of the usual variance): the loss sits near ln K for a while, then learning starts.
  const init = (i: number) =>
    small
      ? tf.initializers.varianceScaling({ scale: r.activation === 'relu' ? 0.1 : 0.05, mode: 'fanIn', distribution: 'normal', seed: seed + i })
      : r.activation === 'relu'
        ? tf.initializers.heNormal({ seed: seed + i })
        : tf.initializers.glorotUniform({ seed: seed + i });
  const m = tf.sequential();
  if (r.arch === 'conv') {
    m.add(tf.layers.reshape({ inputShape: [t.inputs], targetShape: [14, 14, 1], name: 'image' }));
    m.add(tf.layers.conv2d({ filters: 8, kernelSize: 3, activation: r.activation, name: 'conv0', kernelInitializer: init(0) }));
    m.add(tf.layers.maxPooling2d({ poolSize: 2, name: 'pool0' }));
    m.add(tf.layers.conv2d({ filters: 8, kernelSize: 3, activation: r.activation, name: 'conv1', kernelInitializer: init(1) }));
    m.add(tf.layers.flatten({ name: 'flat' }));
  } else if (r.arch === 'rnn') {
    m.add(tf.layers.reshape({ inputShape: [t.inputs], targetShape: [t.inputs, 1], name: 'seq' }));
    m.add(tf.layers.simpleRNN({ units: r.width >> 1, name: 'rnn', kernelInitializer: init(0), recurrentInitializer: 'glorotUniform' }));
  } else {
    for (let i = 0; i < r.depth; i++)
      m.add(tf.layers.dense({ ...(i === 0 ? { inputShape: [t.inputs] } : {}), units: r.width, activation: r.activation, name: `hidden${i}`, kernelInitializer: init(i) }));
  }
  const linear = t.regression || r.logits;
  m.add(tf.layers.dense({ units: t.classes, activation: linear ? 'linear' : 'softmax', name: 'out', kernelInitializer: init(9) }));
  m.compile({ optimizer: 'sgd', loss: t.regression ? 'meanSquaredError' : r.logits ? softmaxCrossEntropy : 'categoricalCrossentropy' });
  return m;
}

function softmaxCrossEntropy(y: tf.Tensor, logits: tf.Tensor): tf.Tensor {
  return tf.losses.softmaxCrossEntropy(y, logits);
}

/** Freezes the base of a fine-tuned model: every weight layer but the head. */
function freezeBase(m: tf.LayersModel): void {
  for (const l of m.layers) if (l.name !== 'out' && l.countParams() > 0) l.trainable = false;
}

/** A one-line description of a recipe, for the report. */
export const describeRecipe = (r: Recipe): string =>
  `${r.task} ${r.arch}${r.arch === 'mlp' ? `x${r.depth}w${r.width}` : ''} ${r.activation}${r.logits ? ' logits' : ''}, ${r.optimizer} ${r.schedule}, batch ${r.batchSize}, flush every ${r.flushEvery}, ${r.start}, ${r.steps} steps`;

/** A generated scenario, with the recipe and split the report groups by. */
export interface GeneratedScenario extends Scenario {
  family: string;
  split: Split;
  recipe: Recipe;
}

/**
 * `runs` scenarios per family for a split: seeds `base`, `base + 1`, ... With `quick` (for
 * `npm test`), the same recipes flush at least every 5 steps (a flush costs ~0.1 s of server
 * round trip, and a run flushing every step has 120 of them).
 */
export function generatedScenarios(split: Split, runs: number, quick = false): GeneratedScenario[] {
  const base = split === 'tuning' ? TUNING_SEED_BASE : HELD_OUT_SEED_BASE;
  return FAMILIES.flatMap((family) =>
    Array.from({ length: runs }, (_, k): GeneratedScenario => {
      const seed = base + k;
      const { recipe: r, onsetDraw } = recipeFor(family, split, seed);
      if (quick && r.flushEvery < 5) Object.assign(r, { flushEvery: 5, steps: Math.max(r.steps, 150) });
      const onset = family.onset?.(r, onsetDraw) ?? 0;
      const lr = BASE_LR[r.optimizer] * (r.task === 'regression' && r.optimizer === 'sgd' ? 0.3 : 1);
      return {
        name: `gen ${split}: ${family.name} #${seed}`,
        family: family.name,
        split,
        recipe: r,
        kind: 'fault',
        ...(family.fixableBy ? { fixableBy: family.fixableBy } : {}),
        timing: family.timing,
        task: (s) => taskOf(r, s),
        steps: r.steps,
        batchSize: r.batchSize,
        flushEvery: r.flushEvery,
        onset,
        expect: family.expect(r),
        // Each family draws its recipes from its own stream: the seed given is the recipe's.
        seedOverride: seed,
        observeTwin: true,
        build: (task, s, faulty) => {
          const model = buildModel(r, task, s);
          const optimizer = makeOptimizer(r, lr);
          const factor = { factor: (_step: number) => 1 };
          const run: Run = {
            model,
            optimizer,
            logits: r.logits,
            mse: task.regression === true,
            hyperparameters: { optimizer: r.optimizer, learning_rate: lr, schedule: r.schedule, batch_size: r.batchSize, ...(notScratch(r) ? { start: r.start, initial_step: PRETRAIN_STEPS } : {}) },
          };
          if (notScratch(r))
            Object.assign(run, {
              pretrain: PRETRAIN_STEPS,
              // Fine-tuning starts a new optimizer on the head, as compiling again does (Adam's moments are kept by position in the variable list).
              afterPretrain: () => {
                if (r.start !== 'fine_tuned') return;
                freezeBase(model);
                run.optimizer.dispose();
                run.optimizer = makeOptimizer(r, lr);
              },
            });
          if (faulty) family.plant({ r, run, task, onset, lr: factor });
          const planted = run.before;
          run.before = (step) => {
            setLearningRate(run.optimizer, lr * schedule(r, step) * factor.factor(step));
            planted?.(step);
          };
          return run;
        },
        manifested: (f: Outcome, twin: Outcome) => family.manifested(f, twin, r),
      };
    }),
  );
}

/**
 * The oracle of a ruined run, independent of the detector: the loss went non-finite, ended
 * 1.5x above where it started (diverged), accuracy ended within 5 points of chance while the
 * twin's did not, or the loss did not fall by 10% while the twin's fell by 20% (not learning).
 */
export function ruined(f: Outcome, twin: Outcome): boolean {
  if (f.sawNonFinite) return true;
  if (f.finalLoss > 1.5 * f.initialLoss + 0.05) return true;
  if (Number.isFinite(f.chance) && f.valAccuracy <= f.chance + 0.05 && twin.valAccuracy > f.chance + 0.15) return true;
  return f.finalLoss > 0.9 * f.initialLoss && twin.finalLoss < 0.8 * twin.initialLoss;
}
