/**
 * Planted faults and healthy controls for `bench:faults`. Each trains a small real model; a
 * fault run is paired with a healthy twin (same seed, fault off) so an oracle independent of
 * the detector can say whether the fault really appeared.
 */
import * as tf from '@tensorflow/tfjs';
import { blobs, circles, decoupled, mnist, scaled, type Task } from './tasks.ts';

export interface Expectation {
  /** Categories that count as a correct detection. */
  categories: string[];
  /** Issue codes that count (any code of those categories when omitted). */
  codes?: string[];
  /** The layer at fault, when there is one. */
  layer?: string;
}

export interface Run {
  model: tf.LayersModel;
  optimizer: tf.Optimizer;
  /** Changes a batch before the step (NaN inputs...). */
  batch?: (step: number, x: tf.Tensor2D) => tf.Tensor2D;
  /** Runs before each step (a learning-rate schedule...). */
  before?: (step: number) => void;
  /** Runs after each step (a leak, a slowdown...). */
  after?: (step: number) => void;
  /** Applies the negated gradients (gradient ascent: a flipped sign). */
  flipGradients?: boolean;
  /** Tensors held for the whole run (a large, constant tensor count); disposed at the end. */
  held?: tf.Tensor[];
  /** The model outputs logits: trained with softmax cross-entropy, its predictions softmaxed for validation. */
  logits?: boolean;
  /** A regression: trained and validated with the mean squared error (no accuracy). */
  mse?: boolean;
  /** The variables the optimizer updates (all trainable ones when omitted): a hand-written loop's list. */
  varList?: tf.Variable[];
  /** Where the step's batch begins, given where it would (a loader stuck on one batch...). */
  batchAt?: (step: number, natural: number) => number;
  /** Hyperparameters logged before the model is registered (a resumed run says so here). */
  hyperparameters?: Record<string, unknown>;
  /** Steps trained before the observer starts, healthy and unobserved (a checkpoint to resume from). */
  pretrain?: number;
  /** Runs after the pretraining (freezing a fine-tuned model's base). */
  afterPretrain?: () => void;
}

export interface Scenario {
  name: string;
  kind: 'fault' | 'control';
  task: (seed: number) => Task;
  /**
   * The whole run, trained to the end. Faults that build up are judged against it (5% of the
   * run), so theirs are runs of realistic length (600-1,200 steps), on 14x14 digits where
   * MNIST would make 5 seeds too slow on the cpu backend; the others are as short as shows
   * their fault.
   */
  steps: number;
  batchSize: number;
  flushEvery: number;
  /** Steps in `--quick` mode, when fewer than `steps`. */
  quickSteps?: number;
  /** The seed `--quick` runs, when seed 1 does not show the fault (so CI still checks its rule). */
  quickSeed?: number;
  /**
   * The remedy a fault of this kind is meant to be fixed by (a learning rate off by a constant
   * factor: scale it; a spike: roll back and lower it; gradients too large: clip), for the
   * recovery section; unset for faults no remedy fixes (a bug in the code or the data that goes
   * on after a resume: flipped gradients, NaN in every later batch, decoupled labels...).
   */
  fixableBy?: string;
  /** The only seed this scenario runs (a generated scenario is one recipe and seed). */
  seedOverride?: number;
  /** The twin is observed too, and reported as a healthy run. */
  observeTwin?: boolean;
  /** The training step the fault starts at (0 for faults present from the start). */
  onset: number;
  /**
   * How soon it must be caught (the targets): a non-finite loss or input at the first
   * flush after it, a fault present from the start within 10 steps, one that builds up within
   * 5% of the run (median).
   */
  timing?: 'non_finite' | 'from_start' | 'builds_up';
  expect?: Expectation;
  build: (task: Task, seed: number, faulty: boolean) => Run;
  /**
   * Did the fault appear? Judged from outcomes, not from the detector. An oracle that takes
   * the faulty run alone (one parameter) needs no twin, and none is trained.
   */
  manifested?: ((faulty: Outcome) => boolean) | ((faulty: Outcome, twin: Outcome) => boolean);
}

/** What a finished run shows, for the oracle. */
export interface Outcome {
  /** Mean train loss of the first flush. */
  initialLoss: number;
  finalLoss: number;
  /** Accuracy on the validation set at the end of the run. */
  valAccuracy: number;
  sawNonFinite: boolean;
  tensorGrowth: number;
  msPerStepLate: number;
  msPerStepEarly: number;
  /** Train loss at each flush. */
  lossTrace: number[];
  /** The validation loss at each flush (observed runs only: a twin does not validate per flush). */
  valTrace: number[];
  /** The validation loss at the end of the run (every run). */
  finalValLoss: number;
  /** The share of the validation set's most frequent class (a classifier's chance accuracy); NaN for a regression. */
  chance: number;
}

/** Mean absolute change of the loss between successive flushes, over the second half of the run. */
export function choppiness(trace: number[]): number {
  const half = trace.slice(Math.floor(trace.length / 2)).filter(Number.isFinite);
  if (half.length < 3) return 0;
  let change = 0;
  for (let i = 1; i < half.length; i++) change += Math.abs(half[i]! - half[i - 1]!);
  return change / (half.length - 1);
}

type Init = 'glorot' | 'he' | { normal: number } | { constant: number };

function initializer(init: Init, seed: number) {
  if (init === 'he') return tf.initializers.heNormal({ seed });
  if (init === 'glorot') return tf.initializers.glorotUniform({ seed });
  if ('normal' in init) return tf.initializers.randomNormal({ mean: 0, stddev: init.normal, seed });
  return tf.initializers.constant({ value: init.constant });
}

function dense(inputs: number, layers: { units: number; activation: string; bias?: number; name: string; init?: Init }[], seed: number): tf.Sequential {
  const m = tf.sequential();
  layers.forEach((l, i) =>
    m.add(
      tf.layers.dense({
        ...(i === 0 ? { inputShape: [inputs] } : {}),
        units: l.units,
        activation: l.activation as 'relu',
        name: l.name,
        kernelInitializer: initializer(l.init ?? 'glorot', seed + i),
        ...(l.bias !== undefined ? { biasInitializer: tf.initializers.constant({ value: l.bias }) } : {}),
      }),
    ),
  );
  return m;
}

const compile = (m: tf.LayersModel, loss: string | ((y: tf.Tensor, p: tf.Tensor) => tf.Tensor) = 'categoricalCrossentropy') => (m.compile({ optimizer: 'sgd', loss }), m);

/** Softmax cross-entropy on logits, named so that the observer reports the loss it is. */
function softmaxCrossEntropy(y: tf.Tensor, logits: tf.Tensor): tf.Tensor {
  return tf.losses.softmaxCrossEntropy(y, logits);
}

/** The base model of most scenarios: one hidden layer named 'hidden' (ReLU, 32 units), a softmax 'out'. */
const mlp = (t: Task, seed: number, o: { bias?: number; units?: number; activation?: string; init?: Init; logits?: boolean } = {}) =>
  compile(
    dense(
      t.inputs,
      [
        { units: o.units ?? 32, activation: o.activation ?? 'relu', name: 'hidden', ...(o.bias !== undefined ? { bias: o.bias } : {}), ...(o.init ? { init: o.init } : {}) },
        { units: t.classes, activation: o.logits ? 'linear' : 'softmax', name: 'out', ...(o.init ? { init: o.init } : {}) },
      ],
      seed,
    ),
    o.logits ? softmaxCrossEntropy : undefined,
  );

/** Sets an optimizer's learning rate: SGD keeps it as a tensor (setLearningRate), Adam and others in a plain field. */
export function setLearningRate(o: tf.Optimizer, lr: number): void {
  const sgd = o as unknown as { setLearningRate?: (lr: number) => void; learningRate: number };
  if (typeof sgd.setLearningRate === 'function') sgd.setLearningRate(lr);
  else sgd.learningRate = lr;
}

function busyWait(ms: number) {
  const until = performance.now() + ms;
  while (performance.now() < until);
}

export const SCENARIOS: Scenario[] = [
  {
    name: 'learning rate far too high',
    kind: 'fault',
    fixableBy: 'scale_learning_rate',
    timing: 'from_start',
    task: (s) => blobs(s),
    steps: 120,
    batchSize: 64,
    flushEvery: 5,
    onset: 0,
    expect: { categories: ['loss', 'layer_health'] },
    // Logits and softmax cross-entropy, as most code trains classifiers: the loss is not
    // clipped, so a step size 300x too large makes it grow ~1000x a step until it overflows.
    build: (t, seed, faulty) => ({ model: mlp(t, seed, { logits: true }), optimizer: tf.train.sgd(faulty ? 30 : 0.1), logits: true }),
    manifested: (f, twin) => f.sawNonFinite || f.finalLoss > 2 * twin.finalLoss + 0.1,
  },
  {
    // One corrupted batch (a bad record, a numerical edge): the loss goes NaN once, and the
    // weights with it; resumed as it was, the run stays broken. What skip_batch is for.
    name: 'one corrupted batch (NaN at step 40 only)',
    kind: 'fault',
    fixableBy: 'rollback + skip_batch',
    timing: 'non_finite',
    task: (s) => blobs(s),
    steps: 80,
    batchSize: 64,
    flushEvery: 5,
    onset: 40,
    expect: { categories: ['loss', 'layer_health'], codes: ['loss.non_finite', 'layer.non_finite'] },
    build: (t, seed, faulty) => ({
      model: mlp(t, seed),
      optimizer: tf.train.sgd(0.1),
      batch: (step, x) => (faulty && step === 40 ? (tf.tidy(() => x.add(tf.scalar(Number.NaN))) as tf.Tensor2D) : x),
    }),
    manifested: (f: Outcome) => f.sawNonFinite,
  },
  {
    name: 'NaN in the input data',
    kind: 'fault',
    timing: 'non_finite',
    task: (s) => blobs(s),
    steps: 80,
    batchSize: 64,
    flushEvery: 5,
    onset: 40,
    // The first layer to see the NaN is named too (layer.non_finite); its units then read as dead.
    expect: { categories: ['loss', 'layer_health'], codes: ['loss.non_finite', 'layer.non_finite'] },
    build: (t, seed, faulty) => {
      const model = mlp(t, seed);
      return {
        model,
        optimizer: tf.train.sgd(0.1),
        batch: (step, x) => (faulty && step >= 40 ? (tf.tidy(() => x.add(tf.scalar(Number.NaN))) as tf.Tensor2D) : x),
      };
    },
    manifested: (f: Outcome) => f.sawNonFinite,
  },
  {
    name: 'vanishing gradients (deep sigmoid stack, two circles)',
    kind: 'fault',
    timing: 'from_start',
    task: (s) => circles(s),
    steps: 200,
    batchSize: 64,
    flushEvery: 5,
    onset: 0,
    expect: { categories: ['loss', 'layer_health', 'architecture'] },
    build: (t, seed, faulty) => {
      const act = faulty ? 'sigmoid' : 'relu';
      const depth = faulty ? 10 : 2;
      const layers = Array.from({ length: depth }, (_, i) => ({ units: 16, activation: act, name: `h${i}` }));
      const model = compile(dense(t.inputs, [...layers, { units: t.classes, activation: 'softmax', name: 'out' }], seed));
      return { model, optimizer: tf.train.sgd(faulty ? 0.1 : 0.5) };
    },
    manifested: (f, twin) => f.finalLoss > 0.6 && twin.finalLoss < f.finalLoss - 0.1,
  },
  {
    name: 'dying ReLU (strongly negative bias)',
    kind: 'fault',
    timing: 'from_start',
    task: (s) => mnist(s),
    steps: 60,
    batchSize: 64,
    flushEvery: 5,
    onset: 0,
    expect: { categories: ['layer_health', 'loss'], layer: 'hidden' },
    build: (t, seed, faulty) => {
      const model = mlp(t, seed, faulty ? { bias: -20 } : {});
      return { model, optimizer: tf.train.sgd(0.1) };
    },
    manifested: (f, twin) => f.valAccuracy < twin.valAccuracy - 0.2,
  },
  {
    name: 'labels decoupled from inputs (loss stays near ln K)',
    kind: 'fault',
    timing: 'builds_up',
    task: (s) => decoupled(mnist(s, 60, 14)),
    steps: 1200,
    quickSteps: 150,
    batchSize: 64,
    flushEvery: 5,
    onset: 0,
    expect: { categories: ['loss'] },
    build: (t, seed) => {
      const model = mlp(t, seed);
      return { model, optimizer: tf.train.sgd(0.05) };
    },
    manifested: (f: Outcome) => f.valAccuracy < 0.25,
  },
  {
    name: 'tensor leak in a hand-written loop',
    kind: 'fault',
    timing: 'builds_up',
    task: (s) => blobs(s),
    steps: 1000,
    quickSteps: 100,
    batchSize: 64,
    flushEvery: 5,
    onset: 0,
    expect: { categories: ['memory'], codes: ['memory.leak'] },
    build: (t, seed, faulty) => {
      const model = mlp(t, seed);
      return { model, optimizer: tf.train.sgd(0.1), after: () => faulty && tf.keep(tf.zeros([8])) && undefined };
    },
    manifested: (f: Outcome) => f.tensorGrowth >= 50,
  },
  {
    name: 'throughput regression from step 300',
    kind: 'fault',
    timing: 'builds_up',
    task: (s) => blobs(s),
    steps: 600,
    batchSize: 64,
    flushEvery: 5,
    onset: 300,
    expect: { categories: ['throughput'], codes: ['throughput.collapse', 'throughput.decay'] },
    build: (t, seed, faulty) => {
      const model = mlp(t, seed);
      return { model, optimizer: tf.train.sgd(0.1), after: (step) => faulty && step >= 300 && busyWait(15) };
    },
    manifested: (f: Outcome) => f.msPerStepLate > 2 * f.msPerStepEarly,
  },
  {
    name: 'exploding gradients (deep net, large init)',
    kind: 'fault',
    fixableBy: 'clip_gradients',
    timing: 'from_start',
    task: (s) => blobs(s),
    steps: 80,
    batchSize: 64,
    flushEvery: 5,
    onset: 0,
    expect: { categories: ['layer_health', 'loss', 'architecture'] },
    build: (t, seed, faulty) => {
      const layers = Array.from({ length: 8 }, (_, i) => ({ units: 32, activation: 'relu', name: `h${i}`, init: (faulty ? { normal: 1.5 } : 'he') as Init }));
      return { model: compile(dense(t.inputs, [...layers, { units: t.classes, activation: 'softmax', name: 'out' }], seed)), optimizer: tf.train.sgd(0.01) };
    },
    manifested: (f, twin) => f.sawNonFinite || f.finalLoss > twin.finalLoss + 0.5 || f.valAccuracy < twin.valAccuracy - 0.1,
  },
  {
    name: 'dying ReLU (learning-rate spike mid-run)',
    kind: 'fault',
    fixableBy: 'rollback + scale_learning_rate',
    timing: 'builds_up',
    task: (s) => mnist(s),
    steps: 300,
    quickSteps: 120,
    batchSize: 64,
    flushEvery: 5,
    onset: 40,
    expect: { categories: ['layer_health', 'loss'], layer: 'hidden' },
    build: (t, seed, faulty) => {
      const model = mlp(t, seed);
      const optimizer = tf.train.sgd(0.1);
      // x1000 for three steps, then back: the classic spike that kills ReLU units for good.
      return { model, optimizer, before: (step) => void (faulty && (step === 40 || step === 43) && setLearningRate(optimizer, step === 40 ? 100 : 0.1)) };
    },
    manifested: (f, twin) => f.valAccuracy < twin.valAccuracy - 0.2,
  },
  {
    name: 'saturated tanh (unnormalised inputs)',
    kind: 'fault',
    timing: 'from_start',
    task: (s) => circles(s),
    steps: 100,
    batchSize: 64,
    flushEvery: 5,
    onset: 0,
    expect: { categories: ['layer_health'], layer: 'hidden' },
    build: (t, seed, faulty) => {
      // Inputs 100x their scale: every tanh unit pinned at -1 or 1.
      if (faulty) Object.assign(t, scaled(t, 100));
      return { model: mlp(t, seed, { activation: 'tanh', units: 16 }), optimizer: tf.train.adam(0.01) };
    },
    manifested: (f, twin) => f.valAccuracy < twin.valAccuracy - 0.05 || f.finalLoss > twin.finalLoss + 0.2,
  },
  {
    name: 'labels decoupled from inputs (a large model memorises)',
    kind: 'fault',
    timing: 'builds_up',
    task: (s) => decoupled(mnist(s, 60, 14)),
    steps: 1200,
    quickSteps: 200,
    batchSize: 32,
    flushEvery: 5,
    onset: 0,
    expect: { categories: ['loss'] },
    build: (t, seed) => ({ model: mlp(t, seed, { units: 128 }), optimizer: tf.train.adam(0.003) }),
    manifested: (f: Outcome) => f.valAccuracy < 0.25 && f.finalLoss < 0.7 * f.initialLoss,
  },
  {
    name: 'learning rate far too low',
    kind: 'fault',
    fixableBy: 'scale_learning_rate',
    timing: 'builds_up',
    task: (s) => mnist(s, 60, 14),
    steps: 1200,
    quickSteps: 150,
    batchSize: 32,
    flushEvery: 5,
    onset: 0,
    expect: { categories: ['loss'], codes: ['loss.plateau', 'loss.no_generalisation'] },
    build: (t, seed, faulty) => ({ model: mlp(t, seed), optimizer: tf.train.sgd(faulty ? 1e-5 : 0.1) }),
    manifested: (f, twin) => f.finalLoss > 0.95 * f.initialLoss && twin.finalLoss < 0.7 * twin.initialLoss,
  },
  {
    name: 'oscillating loss (step size too large)',
    kind: 'fault',
    fixableBy: 'scale_learning_rate',
    // Seed 1 settles into a cycle too small for the oracle; seeds 2-4 oscillate.
    quickSeed: 2,
    timing: 'builds_up',
    // Overlapping blobs (the loss cannot go to zero), the whole training set in each batch
    // (no batch noise), softmax regression: a step past 2/curvature bounces between the
    // valley's sides in a 2- or 4-step cycle; the twin's step goes down the valley smoothly.
    task: (s) => blobs(s, 900, 3, 8, 2),
    steps: 300,
    quickSteps: 150,
    batchSize: 720,
    // Every step: a flush's mean over an even number of steps averages a 2-cycle away.
    flushEvery: 1,
    onset: 0,
    expect: { categories: ['loss'], codes: ['loss.oscillating'] },
    build: (t, seed, faulty) => ({ model: compile(dense(t.inputs, [{ units: t.classes, activation: 'softmax', name: 'out' }], seed)), optimizer: tf.train.sgd(faulty ? 2.5 : 0.5) }),
    // The loss jumps back and forth between flushes far more than its twin's does.
    manifested: (f, twin) => choppiness(f.lossTrace) > 0.05 && choppiness(f.lossTrace) > 3 * choppiness(twin.lossTrace),
  },
  {
    name: 'overfitting (tiny training set, big model)',
    kind: 'fault',
    timing: 'builds_up',
    task: (s) => mnist(s, 60, 14),
    steps: 1000,
    quickSteps: 200,
    batchSize: 32,
    flushEvery: 5,
    onset: 0,
    expect: { categories: ['loss'], codes: ['loss.validation_gap', 'loss.no_generalisation'] },
    build: (t, seed, faulty) => {
      // The faulty run keeps 50 of the 600 training digits; its twin trains on all of them.
      if (faulty) {
        const [xs, ys] = [t.xs.slice([0, 0], [50, -1]), t.ys.slice([0, 0], [50, -1])];
        tf.dispose([t.xs, t.ys]);
        Object.assign(t, { xs, ys });
      }
      return { model: mlp(t, seed, { units: 128 }), optimizer: tf.train.adam(0.01) };
    },
    // The training set is fitted, and unseen digits do clearly worse than with the full set.
    manifested: (f, twin) => f.finalLoss < 0.1 * f.initialLoss && f.valAccuracy < twin.valAccuracy - 0.05,
  },
  {
    name: 'constant initialisation (symmetric units)',
    kind: 'fault',
    timing: 'from_start',
    task: (s) => mnist(s),
    steps: 100,
    batchSize: 64,
    flushEvery: 5,
    onset: 0,
    expect: { categories: ['layer_health', 'architecture'], layer: 'hidden' },
    build: (t, seed, faulty) => ({ model: mlp(t, seed, faulty ? { init: { constant: 0.01 } } : {}), optimizer: tf.train.sgd(0.1) }),
    manifested: (f, twin) => f.valAccuracy < twin.valAccuracy - 0.2,
  },
  {
    name: 'loss and output activation that do not fit (sigmoid + categorical cross-entropy)',
    kind: 'fault',
    timing: 'from_start',
    task: (s) => blobs(s),
    steps: 20,
    batchSize: 64,
    flushEvery: 5,
    onset: 0,
    expect: { categories: ['architecture'], codes: ['architecture.loss_activation_mismatch'], layer: 'out' },
    build: (t, seed, faulty) => ({
      model: compile(dense(t.inputs, [{ units: 32, activation: 'relu', name: 'hidden' }, { units: t.classes, activation: faulty ? 'sigmoid' : 'softmax', name: 'out' }], seed)),
      optimizer: tf.train.sgd(0.1),
    }),
    // The fault is in the configuration itself: present in every faulty run by construction.
    manifested: () => true,
  },
  {
    name: 'flipped gradient sign (gradient ascent)',
    kind: 'fault',
    timing: 'from_start',
    task: (s) => blobs(s),
    steps: 80,
    batchSize: 64,
    flushEvery: 5,
    onset: 0,
    expect: { categories: ['loss'], codes: ['loss.diverging', 'loss.non_finite'] },
    build: (t, seed, faulty) => ({ model: mlp(t, seed), optimizer: tf.train.sgd(0.1), flipGradients: faulty }),
    manifested: (f: Outcome) => f.sawNonFinite || f.finalLoss > 1.5 * f.initialLoss,
  },
  ...(
    [
      ['blobs', (s: number) => blobs(s)],
      ['two circles', (s: number) => circles(s)],
      ['MNIST', (s: number) => mnist(s)],
    ] as const
  ).map(
    ([name, task]): Scenario => ({
      name: `control: ${name}`,
      kind: 'control',
      task,
      steps: 200,
      batchSize: 64,
      flushEvery: 5,
      onset: 0,
      build: (t, seed) => {
        const model = mlp(t, seed);
        return { model, optimizer: tf.train.adam(0.01) };
      },
    }),
  ),
  {
    name: 'control: heavy dropout, small batches (noisy loss)',
    kind: 'control',
    task: (s) => mnist(s),
    steps: 200,
    batchSize: 16,
    flushEvery: 5,
    onset: 0,
    build: (t, seed) => {
      const m = tf.sequential();
      m.add(tf.layers.dense({ inputShape: [t.inputs], units: 64, activation: 'relu', name: 'hidden', kernelInitializer: tf.initializers.heNormal({ seed }) }));
      m.add(tf.layers.dropout({ rate: 0.5, name: 'drop' }));
      m.add(tf.layers.dense({ units: t.classes, activation: 'softmax', name: 'out' }));
      return { model: compile(m), optimizer: tf.train.adam(0.003) };
    },
  },
  {
    name: 'control: warmup then cosine decay',
    kind: 'control',
    task: (s) => mnist(s),
    steps: 200,
    batchSize: 64,
    flushEvery: 5,
    onset: 0,
    build: (t, seed) => {
      const optimizer = tf.train.adam(0.003);
      const lr = (step: number) => 0.003 * Math.min(1, (step + 1) / 30) * 0.5 * (1 + Math.cos((Math.PI * step) / 200));
      return { model: mlp(t, seed), optimizer, before: (step) => setLearningRate(optimizer, lr(step)) };
    },
  },
  {
    name: 'control: deep ReLU net, He init and batch norm',
    kind: 'control',
    task: (s) => blobs(s),
    steps: 200,
    batchSize: 64,
    flushEvery: 5,
    onset: 0,
    build: (t, seed) => {
      const m = tf.sequential();
      for (let i = 0; i < 6; i++) {
        m.add(tf.layers.dense({ ...(i === 0 ? { inputShape: [t.inputs] } : {}), units: 32, name: `h${i}`, kernelInitializer: tf.initializers.heNormal({ seed: seed + i }) }));
        m.add(tf.layers.batchNormalization({ name: `bn${i}` }));
        m.add(tf.layers.activation({ activation: 'relu', name: `relu${i}` }));
      }
      m.add(tf.layers.dense({ units: t.classes, activation: 'softmax', name: 'out' }));
      return { model: compile(m), optimizer: tf.train.adam(0.003) };
    },
  },
  {
    name: 'control: easily separable data (loss goes to ~0)',
    kind: 'control',
    task: (s) => blobs(s, 900, 3, 8, 0.05),
    steps: 200,
    batchSize: 64,
    flushEvery: 5,
    onset: 0,
    build: (t, seed) => ({ model: mlp(t, seed), optimizer: tf.train.adam(0.01) }),
  },
  {
    name: 'control: a long run (5,000 steps)',
    kind: 'control',
    // Enough data that 5,000 steps do not overfit (a healthy run, just long).
    task: (s) => blobs(s, 6000),
    steps: 5000,
    quickSteps: 1500,
    batchSize: 64,
    flushEvery: 25,
    onset: 0,
    build: (t, seed) => ({ model: mlp(t, seed), optimizer: tf.train.adam(0.003) }),
  },
  {
    name: 'control: a large but constant tensor count',
    kind: 'control',
    task: (s) => blobs(s),
    steps: 200,
    batchSize: 64,
    flushEvery: 5,
    onset: 0,
    build: (t, seed) => ({ model: mlp(t, seed), optimizer: tf.train.adam(0.01), held: Array.from({ length: 5000 }, (_, i) => tf.scalar(i)) }),
  },
];
