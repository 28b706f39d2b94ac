import * as tf from '@tensorflow/tfjs';

/**
 * MNIST from the compact binary files made at build time (a label byte, then 784 pixel
 * bytes), kept as typed arrays until a backend is chosen.
 */
export interface Dataset {
  pixels: Float32Array;
  labels: Int32Array;
  count: number;
}

export async function loadMnist(split: 'train' | 'test'): Promise<Dataset> {
  const res = await fetch(`./data/mnist-${split}.bin`);
  if (!res.ok) throw new Error(`could not load MNIST (${split}): HTTP ${res.status}`);
  const bytes = new Uint8Array(await res.arrayBuffer());
  const n = bytes.length / 785;
  const pixels = new Float32Array(n * 784);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    labels[i] = bytes[i * 785]!;
    for (let p = 0; p < 784; p++) pixels[i * 784 + p] = bytes[i * 785 + 1 + p]! / 255;
  }
  return { pixels, labels, count: n };
}

/** The dataset as tensors on the current backend. */
export function toTensors(d: Dataset): { xs: tf.Tensor2D; ys: tf.Tensor2D } {
  return { xs: tf.tensor2d(d.pixels, [d.count, 784]), ys: tf.oneHot(tf.tensor1d(d.labels, 'int32'), 10) as tf.Tensor2D };
}
