/** The browser half of `bench:observer`: `?backend=webgl|webgpu&steps=N&reps=R`; the result lands in `window.__bench`. */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-webgpu';
import { compareModes } from '../../bench/observer-workload.ts';

declare global {
  interface Window {
    __bench?: Record<string, unknown>;
  }
}

async function main() {
  const q = new URLSearchParams(location.search);
  await tf.setBackend(q.get('backend') ?? 'webgpu');
  await tf.ready();
  const bytes = new Uint8Array(await (await fetch('./mnist-sample.bin')).arrayBuffer());
  const n = bytes.length / 785;
  const pixels = new Float32Array(n * 784);
  const labels: number[] = [];
  for (let i = 0; i < n; i++) {
    labels.push(bytes[i * 785]!);
    for (let p = 0; p < 784; p++) pixels[i * 784 + p] = bytes[i * 785 + 1 + p]! / 255;
  }
  const xs = tf.tensor2d(pixels, [n, 784]);
  const ys = tf.oneHot(tf.tensor1d(labels, 'int32'), 10) as tf.Tensor2D;
  const steps = Number(q.get('steps') ?? 100);
  const result = await compareModes({ xs, ys, serverUrl: location.origin, projectId: 1, steps, batchSize: 64, flushEvery: 20 }, Number(q.get('reps') ?? 3));
  window.__bench = { backend: tf.getBackend(), steps, ...result };
}

main().catch((e) => (window.__bench = { fatal: String(e) }));
