/**
 * Planted faults and healthy controls for `bench:faults`. Each trains a small real model; a
 * fault run is paired with a healthy twin (same seed, fault off) so an oracle independent of
 * the detector can say whether the fault really appeared.
 */
import * as tf from '@tensorflow/tfjs';
import { blobs, circles, mnist, type Task } from './tasks.ts';

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
  /** Runs after each step (a leak, a slowdown...). */
  after?: (step: number) => void;
}

export interface Scenario {
  name: string;
  kind: 'fault' | 'control';
  task: (seed: number) => Task;
  steps: number;
  batchSize: number;
  flushEvery: number;
  /** The training step the fault starts at (0 for faults present from the start). */
  onset: number;
  expect?: Expectation;
  build: (task: Task, seed: number, faulty: boolean) => Run;
  /** Did the fault appear? Judged from outcomes, not from the detector. */
  manifested?: (faulty: Outcome, twin: Outcome) => boolean;
}

/** What a finished run shows, for the oracle. */
export interface Outcome {
  finalLoss: number;
  valAccuracy: number;
  sawNonFinite: boolean;
  tensorGrowth: number;
  msPerStepLate: number;
  msPerStepEarly: number;
}

function dense(inputs: number, layers: { units: number; activation: string; bias?: number; name: string }[], seed: number): tf.Sequential {
  const m = tf.sequential();
  layers.forEach((l, i) =>
    m.add(
      tf.layers.dense({
        ...(i === 0 ? { inputShape: [inputs] } : {}),
        units: l.units,
        activation: l.activation as 'relu',
        name: l.name,
        kernelInitializer: tf.initializers.glorotUniform({ seed: seed + i }),
        ...(l.bias !== undefined ? { biasInitializer: tf.initializers.constant({ value: l.bias }) } : {}),
      }),
    ),
  );
  return m;
}

const compile = (m: tf.LayersModel, loss = 'categoricalCrossentropy') => (m.compile({ optimizer: 'sgd', loss }), m);

/** The base model of most scenarios: one ReLU hidden layer named 'hidden', a softmax 'out'. */
const mlp = (t: Task, seed: number, bias?: number) =>
  compile(dense(t.inputs, [{ units: 32, activation: 'relu', name: 'hidden', ...(bias !== undefined ? { bias } : {}) }, { units: t.classes, activation: 'softmax', name: 'out' }], seed));

function busyWait(ms: number) {
  const until = performance.now() + ms;
  while (performance.now() < until);
}

export const SCENARIOS: Scenario[] = [
  {
    name: 'learning rate far too high',
    kind: 'fault',
    task: (s) => blobs(s),
    steps: 120,
    batchSize: 64,
    flushEvery: 5,
    onset: 0,
    expect: { categories: ['loss', 'layer_health'] },
    build: (t, seed, faulty) => {
      const model = mlp(t, seed);
      return { model, optimizer: tf.train.sgd(faulty ? 2000 : 0.1) };
    },
    manifested: (f, twin) => f.sawNonFinite || f.finalLoss > 2 * twin.finalLoss + 0.1,
  },
  {
    name: 'NaN in the input data',
    kind: 'fault',
    task: (s) => blobs(s),
    steps: 80,
    batchSize: 64,
    flushEvery: 5,
    onset: 40,
    expect: { categories: ['loss'], codes: ['loss.non_finite'] },
    build: (t, seed, faulty) => {
      const model = mlp(t, seed);
      return {
        model,
        optimizer: tf.train.sgd(0.1),
        batch: (step, x) => (faulty && step >= 40 ? (tf.tidy(() => x.add(tf.scalar(Number.NaN))) as tf.Tensor2D) : x),
      };
    },
    manifested: (f) => f.sawNonFinite,
  },
  {
    name: 'vanishing gradients (deep sigmoid stack, two circles)',
    kind: 'fault',
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
    task: (s) => mnist(s),
    steps: 60,
    batchSize: 64,
    flushEvery: 5,
    onset: 0,
    expect: { categories: ['layer_health', 'loss'], layer: 'hidden' },
    build: (t, seed, faulty) => {
      const model = mlp(t, seed, faulty ? -20 : undefined);
      return { model, optimizer: tf.train.sgd(0.1) };
    },
    manifested: (f, twin) => f.valAccuracy < twin.valAccuracy - 0.2,
  },
  {
    name: 'labels decoupled from inputs',
    kind: 'fault',
    task: (s) => {
      const t = mnist(s);
      const perm = tf.tensor1d(Array.from({ length: t.ys.shape[0] }, (_, i) => (i * 7919) % t.ys.shape[0]), 'int32');
      return { ...t, name: 'mnist-shuffled-labels', ys: tf.gather(t.ys, perm) as tf.Tensor2D };
    },
    steps: 150,
    batchSize: 64,
    flushEvery: 5,
    onset: 0,
    expect: { categories: ['loss'] },
    build: (t, seed) => {
      const model = mlp(t, seed);
      return { model, optimizer: tf.train.sgd(0.05) };
    },
    manifested: (f) => f.valAccuracy < 0.25,
  },
  {
    name: 'tensor leak in a hand-written loop',
    kind: 'fault',
    task: (s) => blobs(s),
    steps: 100,
    batchSize: 64,
    flushEvery: 5,
    onset: 0,
    expect: { categories: ['memory'], codes: ['memory.leak'] },
    build: (t, seed, faulty) => {
      const model = mlp(t, seed);
      return { model, optimizer: tf.train.sgd(0.1), after: () => faulty && tf.keep(tf.zeros([8])) && undefined };
    },
    manifested: (f) => f.tensorGrowth >= 50,
  },
  {
    name: 'throughput regression from step 100',
    kind: 'fault',
    task: (s) => blobs(s),
    steps: 180,
    batchSize: 64,
    flushEvery: 5,
    onset: 100,
    expect: { categories: ['throughput'], codes: ['throughput.collapse'] },
    build: (t, seed, faulty) => {
      const model = mlp(t, seed);
      return { model, optimizer: tf.train.sgd(0.1), after: (step) => faulty && step >= 100 && busyWait(15) };
    },
    manifested: (f) => f.msPerStepLate > 2 * f.msPerStepEarly,
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
];
