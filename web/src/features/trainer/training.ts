/**
 * The trainer's training loop: tfjs and the Observer, free of React. The page calls `train`
 * and gets progress through callbacks.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-webgpu';
import { Observer, PendingTimeoutError, SessionStoppedError, type PendingPrompt } from '../../../../observer/index.ts';
import { toTensors, type Dataset } from './data.ts';

export type ModelKind = 'mlp' | 'cnn';
export type Backend = 'webgpu' | 'webgl' | 'cpu';

export interface Hyperparameters {
  model: ModelKind;
  learningRate: number;
  batchSize: number;
  steps: number;
  flushEvery: number;
  hidden: number;
}

/** Known problems the trainer can plant, so diagnostics can be seen at work. */
export interface Faults {
  /** Multiply the learning rate by 100 from this step (null: off). */
  lrSpikeAt: number | null;
  /** Report a NaN loss at these steps. */
  nanAt: number[];
  /** Initialise ReLU biases strongly negative: most units never fire. */
  deadRelu: boolean;
  /** Keep one tensor per step alive (a classic tfjs leak). */
  leak: boolean;
}

/**
 * Picks the backend: the one asked for if it initialises, else the next of webgpu → webgl →
 * cpu, with the reason it fell back.
 */
export async function chooseBackend(wanted: Backend): Promise<{ backend: string; note: string | null }> {
  const order: Backend[] = ['webgpu', 'webgl', 'cpu'];
  const notes: string[] = [];
  for (const b of order.slice(order.indexOf(wanted))) {
    if (b === 'webgpu' && !('gpu' in navigator)) {
      notes.push('WebGPU is not available in this browser');
      continue;
    }
    if (b === 'webgpu') {
      const adapter = await (navigator as unknown as { gpu: { requestAdapter(): Promise<unknown> } }).gpu.requestAdapter().catch(() => null);
      if (!adapter) {
        notes.push('no WebGPU adapter was found (no GPU, or WebGPU disabled)');
        continue;
      }
    }
    try {
      if (await tf.setBackend(b)) {
        await tf.ready();
        return { backend: tf.getBackend(), note: notes.length ? `${notes.join('; ')}: using ${b}` : null };
      }
      notes.push(`${b} failed to initialise`);
    } catch (e) {
      notes.push(`${b} failed: ${(e as Error).message}`);
    }
  }
  throw new Error(`no tfjs backend could start (${notes.join('; ')})`);
}

export function buildModel(h: Hyperparameters, faults: Faults): tf.LayersModel {
  const bias = faults.deadRelu ? { biasInitializer: tf.initializers.constant({ value: -20 }) } : {};
  const m = tf.sequential();
  if (h.model === 'cnn') {
    m.add(tf.layers.reshape({ inputShape: [784], targetShape: [28, 28, 1], name: 'image' }));
    m.add(tf.layers.conv2d({ filters: 8, kernelSize: 3, activation: 'relu', name: 'conv1', ...bias }));
    m.add(tf.layers.maxPooling2d({ poolSize: 2, name: 'pool1' }));
    m.add(tf.layers.conv2d({ filters: 16, kernelSize: 3, activation: 'relu', name: 'conv2', ...bias }));
    m.add(tf.layers.maxPooling2d({ poolSize: 2, name: 'pool2' }));
    m.add(tf.layers.flatten({ name: 'flatten' }));
    m.add(tf.layers.dense({ units: h.hidden, activation: 'relu', name: 'dense', ...bias }));
  } else {
    m.add(tf.layers.dense({ inputShape: [784], units: h.hidden, activation: 'relu', name: 'hidden1', ...bias }));
    m.add(tf.layers.dense({ units: h.hidden, activation: 'relu', name: 'hidden2', ...bias }));
  }
  m.add(tf.layers.dense({ units: 10, activation: 'softmax', name: 'out' }));
  m.compile({ optimizer: tf.train.adam(h.learningRate), loss: 'categoricalCrossentropy' });
  return m;
}

export interface Progress {
  step: number;
  lastLoss: number | null;
  unsent: number;
  connected: boolean;
  paused: boolean;
  sessionId: number | null;
}

export interface TrainOptions {
  projectId: number;
  runName: string;
  hyper: Hyperparameters;
  faults: Faults;
  train: Dataset;
  test: Dataset;
  onProgress: (p: Progress) => void;
  onPending: (p: PendingPrompt) => void;
  /** Polled between steps: true asks the loop to stop. */
  shouldStop: () => boolean;
  /** Polled between steps: while true the loop waits (nothing is computed or sent). */
  isPaused: () => boolean;
}

/** Trains with the Observer; resolves with how it ended. Yields to the browser every step. */
export async function train(o: TrainOptions): Promise<{ ended: 'finished' | 'stopped' | 'timeout' | 'cancelled'; sessionId: number | null; message: string }> {
  const { hyper: h, faults } = o;
  const trainSet = { ...toTensors(o.train), count: o.train.count };
  const testSet = { ...toTensors(o.test), count: o.test.count };
  const obs = await Observer.create({
    projectId: o.projectId,
    runName: o.runName,
    config: { serverUrl: location.origin, carbonTrackerMode: 'offline' },
    onPending: o.onPending,
    metadata: { trainer: 'web', faults: { ...faults } },
  });
  const model = buildModel(h, faults);
  obs.logHyperparameters({ ...h, optimizer: 'adam', dataset: 'MNIST', faults: { ...faults } });
  const probe = { x: testSet.xs.slice([0, 0], [64, 784]), y: testSet.ys.slice([0, 0], [64, 10]) };
  obs.registerModel(model, { probe });
  const optimizer = model.optimizer as tf.AdamOptimizer;
  const batches = Math.floor(trainSet.count / h.batchSize);
  const leaked: tf.Tensor[] = [];
  let ended: 'finished' | 'stopped' | 'timeout' | 'cancelled' = 'finished';
  let message = `trained ${h.steps} steps`;
  let lastLoss: number | null = null;
  try {
    for (let step = 0; step < h.steps; step++) {
      if (o.shouldStop()) {
        ended = 'cancelled';
        message = `stopped from the page at step ${step}`;
        await obs.decide('stop').catch(() => {});
        break;
      }
      if (faults.lrSpikeAt !== null && step === faults.lrSpikeAt) (optimizer as unknown as { learningRate: number }).learningRate = h.learningRate * 100;
      const b = step % batches;
      const x = trainSet.xs.slice([b * h.batchSize, 0], [h.batchSize, 784]);
      const y = trainSet.ys.slice([b * h.batchSize, 0], [h.batchSize, 10]);
      const loss = obs.shouldProfile(step)
        ? await obs.profileStep({ model, x, y, optimizer })
        : optimizer.minimize(() => tf.metrics.categoricalCrossentropy(y, model.apply(x) as tf.Tensor).mean() as tf.Scalar, true)!;
      const reported = faults.nanAt.includes(step) ? loss.mul(Number.NaN) : loss;
      obs.step(step, reported, { batchSize: h.batchSize });
      if (faults.leak) leaked.push(tf.keep(x.clone()));
      tf.dispose([x, y, loss, reported]);
      if ((step + 1) % h.flushEvery === 0 || step === h.steps - 1) {
        const val = tf.tidy(() => tf.metrics.categoricalCrossentropy(testSet.ys.slice([0, 0], [256, 10]), model.predict(testSet.xs.slice([0, 0], [256, 784])) as tf.Tensor).mean());
        const valLoss = (await val.data())[0]!;
        val.dispose();
        const record = await obs.flush({ valMetrics: { val_loss: valLoss } });
        lastLoss = (record.loss?.train_mean as number) ?? null;
      }
      o.onProgress({ step: step + 1, lastLoss, unsent: obs.unsent, connected: obs.connected, paused: false, sessionId: obs.sessionId });
      await tf.nextFrame();
      while (o.isPaused() && !o.shouldStop()) {
        o.onProgress({ step: step + 1, lastLoss, unsent: obs.unsent, connected: obs.connected, paused: true, sessionId: obs.sessionId });
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    if (ended === 'finished') await obs.decide('complete').catch(() => {});
  } catch (e) {
    if (e instanceof SessionStoppedError) {
      ended = 'stopped';
      message = e.message;
    } else if (e instanceof PendingTimeoutError) {
      ended = 'timeout';
      message = e.message;
    } else throw e;
  } finally {
    tf.dispose([...leaked, probe.x, probe.y, trainSet.xs, trainSet.ys, testSet.xs, testSet.ys]);
    model.dispose();
    await obs.close();
  }
  return { ended, sessionId: obs.sessionId, message };
}
