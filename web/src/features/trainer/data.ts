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

/** Moby Dick as character indices (one byte each) and its vocabulary, from the build-time files. */
export interface TextCorpus {
  tokens: Uint8Array;
  vocabulary: string[];
}

export async function loadMobyDick(): Promise<TextCorpus> {
  const [bin, meta] = await Promise.all([fetch('./data/moby-dick.bin'), fetch('./data/moby-dick.json')]);
  if (!bin.ok || !meta.ok) throw new Error(`could not load Moby Dick: HTTP ${bin.ok ? meta.status : bin.status}`);
  const { vocabulary } = (await meta.json()) as { vocabulary: string[] };
  return { tokens: new Uint8Array(await bin.arrayBuffer()), vocabulary };
}

/** A seeded generator of uniform numbers in [0, 1) (mulberry32), so batches repeat across runs. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A batch of `batch` random windows of `context` characters from `tokens[from, to)`, with the
 * next character of each position as its target.
 */
export function textBatch(tokens: Uint8Array, from: number, to: number, batch: number, context: number, random: () => number): { x: tf.Tensor2D; y: tf.Tensor2D } {
  const x = new Int32Array(batch * context);
  const y = new Int32Array(batch * context);
  for (let b = 0; b < batch; b++) {
    const start = from + Math.floor(random() * (to - from - context - 1));
    for (let t = 0; t < context; t++) {
      x[b * context + t] = tokens[start + t]!;
      y[b * context + t] = tokens[start + t + 1]!;
    }
  }
  return { x: tf.tensor2d(x, [batch, context], 'int32'), y: tf.tensor2d(y, [batch, context], 'int32') };
}
