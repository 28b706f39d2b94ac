/**
 * The training workload of `bench:observer`, shared by Node and the browser page: a small
 * MLP on real MNIST digits, trained with a hand-written loop, without the observer, with its
 * default config, or with everything on (layer health on a probe batch at every flush,
 * profiling every 50 steps).
 */
import * as tf from '@tensorflow/tfjs';
import { Observer } from '@observer/tfjs';

export type Mode = 'off' | 'default' | 'all' | 'health50' | 'health10' | 'nosnap';

/** The observer's config for each mode (null: no observer). */
function configOf(mode: Mode): Record<string, unknown> | null {
  switch (mode) {
    case 'off':
      return null;
    case 'default':
      return { trackLayerHealth: false, trackProfiler: false, trackCarbonEmissions: false };
    case 'nosnap':
      return { trackLayerHealth: false, trackProfiler: false, trackCarbonEmissions: false, snapshots: false };
    case 'all':
      return { profileEveryNSteps: 50, trackCarbonEmissions: true };
    case 'health50':
    case 'health10':
      return { trackProfiler: false, trackCarbonEmissions: false, layerHealthEveryNSteps: mode === 'health50' ? 50 : 10 };
  }
}

export interface Workload {
  xs: tf.Tensor2D;
  ys: tf.Tensor2D;
  serverUrl: string;
  projectId: number;
  steps: number;
  batchSize: number;
  flushEvery: number;
}

function model(): tf.Sequential {
  const m = tf.sequential();
  m.add(tf.layers.dense({ inputShape: [784], units: 128, activation: 'relu', name: 'hidden' }));
  m.add(tf.layers.dense({ units: 10, activation: 'softmax', name: 'out' }));
  m.compile({ optimizer: tf.train.sgd(0.05), loss: 'categoricalCrossentropy' });
  return m;
}

/** Device bytes held at the end of the last run of each mode (before the observer closes): what snapshots keep shows here. */
export const bytesAtEnd: Partial<Record<Mode, number>> = {};

/** Trains `w.steps` steps and returns the wall time per step in ms (device work included). */
export async function runWorkload(w: Workload, mode: Mode): Promise<number> {
  const net = model();
  const optimizer = tf.train.sgd(0.05);
  const n = w.xs.shape[0];
  const batches = Math.floor(n / w.batchSize);
  const xb = Array.from({ length: batches }, (_, i) => w.xs.slice([i * w.batchSize, 0], [w.batchSize, 784]));
  const yb = Array.from({ length: batches }, (_, i) => w.ys.slice([i * w.batchSize, 0], [w.batchSize, 10]));
  const config = configOf(mode);
  const obs = config
    ? await Observer.create({ projectId: w.projectId, runName: `bench-${mode}-${tf.getBackend()}`, config: { serverUrl: w.serverUrl, trackConsoleLogs: false, ...config } })
    : null;
  const withHealth = mode === 'all' || mode === 'health50' || mode === 'health10';
  // The loop's optimizer is registered, as the README says: its learning rate is reported and a rollback restores its state.
  if (obs) obs.registerModel(net, { optimizer, ...(withHealth ? { probe: { x: xb[0]!.slice([0, 0], [32, 784]), y: yb[0]!.slice([0, 0], [32, 10]) } } : {}) });
  const lossOf = (i: number) => () => tf.metrics.categoricalCrossentropy(yb[i % batches]!, net.apply(xb[i % batches]!) as tf.Tensor).mean() as tf.Scalar;
  // Warm up kernels (shader compilation is a one-time cost), the observer's too, outside the timed part.
  for (let i = 0; i < 3; i++) {
    const loss = optimizer.minimize(lossOf(i), true)!;
    obs?.step(-1, loss, { batchSize: w.batchSize });
    loss.dispose();
  }
  if (obs) await obs.flush();
  await net.getWeights()[0]!.data();
  const start = performance.now();
  for (let step = 0; step < w.steps; step++) {
    let loss: tf.Scalar;
    if (obs?.shouldProfile(step)) loss = await obs.profileStep({ model: net, x: xb[step % batches]!, y: yb[step % batches]!, optimizer });
    else loss = optimizer.minimize(lossOf(step), true)!;
    obs?.step(step, loss, { batchSize: w.batchSize });
    loss.dispose();
    if (obs && (step + 1) % w.flushEvery === 0) await obs.flush();
  }
  await net.getWeights()[0]!.data();
  const perStep = (performance.now() - start) / w.steps;
  bytesAtEnd[mode] = tf.memory().numBytes;
  await obs?.close();
  tf.dispose([...xb, ...yb]);
  net.dispose();
  optimizer.dispose();
  return perStep;
}

/** Runs the modes interleaved `reps` times and returns the median ms per step of each. */
export async function compareModes<M extends Mode = 'off' | 'default' | 'all'>(w: Workload, reps: number, modes: readonly M[] = ['off', 'default', 'all'] as unknown as M[]): Promise<Record<M, number>> {
  const times = Object.fromEntries(modes.map((m) => [m, [] as number[]])) as Record<M, number[]>;
  for (let r = 0; r < reps; r++) for (const mode of modes) times[mode].push(await runWorkload(w, mode));
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
  return Object.fromEntries(modes.map((m) => [m, median(times[m])])) as Record<M, number>;
}
