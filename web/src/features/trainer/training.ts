/**
 * The trainer's training loop: tfjs and the Observer, free of React. The page calls `train`
 * and gets progress through callbacks.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-webgpu';
import { storedApiKey } from '../../graphql/api-key.ts';
import { Observer, PendingTimeoutError, SessionStoppedError, type ObservableModel, type PendingPrompt } from '@observer/tfjs';
import { seededRandom, textBatch, toTensors, type Dataset, type TextCorpus } from './data.ts';
import { gptParameters, MiniGpt, type GptConfig } from './minigpt.ts';
import { runObserved, runObserverOf } from './observed-run.ts';

export type ModelKind = 'mlp' | 'cnn' | 'minigpt';
export type Backend = 'webgpu' | 'webgl' | 'cpu';

export interface Hyperparameters {
  model: ModelKind;
  learningRate: number;
  batchSize: number;
  steps: number;
  flushEvery: number;
  /** Model size: hidden units (MLP, CNN) or embedding width (MiniGPT). */
  hidden: number;
  /** Transformer blocks (MiniGPT). */
  layers: number;
  /** Characters of context (MiniGPT). */
  context: number;
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


/** One model on its data, as the loop needs it: a step's loss, a validation loss, the model for the Observer. */
interface Task {
  dataset: string;
  observed: ObservableModel;
  probe?: { x: tf.Tensor; y: tf.Tensor };
  variables?: tf.Variable[];
  /** The loss of the next training batch (inside optimizer.minimize). */
  batch(step: number): { loss: () => tf.Scalar; inputs: tf.Tensor[] };
  /** Whole-step profiling needs a LayersModel; MiniGPT profiles its step function. */
  profile(obs: Observer, step: number): Promise<tf.Scalar>;
  validation(): tf.Scalar;
  leakable(step: number): tf.Tensor;
  dispose(): void;
}

/** The MLP or CNN, compiled with the optimizer the loop steps (one optimizer, not a second unused one). */
export function buildModel(h: Hyperparameters, faults: Faults, optimizer: tf.Optimizer): tf.LayersModel {
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
  m.compile({ optimizer, loss: 'categoricalCrossentropy' });
  return m;
}


function mnistTask(h: Hyperparameters, faults: Faults, train: Dataset, test: Dataset, optimizer: tf.Optimizer): Task {
  const trainSet = toTensors(train);
  const testSet = toTensors(test);
  let model: tf.LayersModel;
  try {
    model = buildModel(h, faults, optimizer);
  } catch (e) {
    tf.dispose([trainSet.xs, trainSet.ys, testSet.xs, testSet.ys]);
    throw e;
  }
  const batches = Math.floor(train.count / h.batchSize);
  const slice = (step: number) => {
    const b = step % batches;
    return { x: trainSet.xs.slice([b * h.batchSize, 0], [h.batchSize, 784]), y: trainSet.ys.slice([b * h.batchSize, 0], [h.batchSize, 10]) };
  };
  const probe = { x: testSet.xs.slice([0, 0], [64, 784]), y: testSet.ys.slice([0, 0], [64, 10]) };
  return {
    dataset: 'MNIST',
    observed: model,
    probe,
    batch(step) {
      const { x, y } = slice(step);
      return { loss: () => tf.metrics.categoricalCrossentropy(y, model.apply(x) as tf.Tensor).mean() as tf.Scalar, inputs: [x, y] };
    },
    async profile(obs, step) {
      const { x, y } = slice(step);
      try {
        return await obs.profileStep({ model, x, y, optimizer });
      } finally {
        tf.dispose([x, y]);
      }
    },
    validation: () => tf.tidy(() => tf.metrics.categoricalCrossentropy(testSet.ys.slice([0, 0], [256, 10]), model.predict(testSet.xs.slice([0, 0], [256, 784])) as tf.Tensor).mean() as tf.Scalar),
    leakable: (step) => trainSet.xs.slice([step % batches, 0], [1, 784]),
    dispose: () => {
      tf.dispose([trainSet.xs, trainSet.ys, testSet.xs, testSet.ys, probe.x, probe.y]);
      model.dispose();
    },
  };
}

export const gptConfig = (h: Hyperparameters, vocab: number): GptConfig => ({ vocab, context: h.context, dim: h.hidden, heads: 4, layers: h.layers });

function textTask(h: Hyperparameters, corpus: TextCorpus, optimizer: tf.Optimizer): Task {
  const gpt = new MiniGpt(gptConfig(h, corpus.vocabulary.length));
  const split = Math.floor(corpus.tokens.length * 0.9);
  const random = seededRandom(1);
  const val = textBatch(corpus.tokens, split, corpus.tokens.length, 32, h.context, seededRandom(2));
  const batch = () => textBatch(corpus.tokens, 0, split, h.batchSize, h.context, random);
  return {
    dataset: 'Moby Dick (characters)',
    // Gradient norms per layer (layer health) from the held-out batch.
    observed: { ...gpt.describe(), probeLoss: () => gpt.loss(val.x, val.y) },
    variables: gpt.variables,
    batch() {
      const { x, y } = batch();
      return { loss: () => gpt.loss(x, y), inputs: [x, y] };
    },
    async profile(obs, _step) {
      const { x, y } = batch();
      try {
        return await obs.profileStep(() => optimizer.minimize(() => gpt.loss(x, y), true, gpt.variables)!);
      } finally {
        tf.dispose([x, y]);
      }
    },
    validation: () => gpt.loss(val.x, val.y),
    leakable: () => val.x.clone(),
    dispose: () => {
      tf.dispose([val.x, val.y]);
      gpt.dispose();
    },
  };
}

/**
 * Whether a model of these hyperparameters fits the backend, before anything is allocated:
 * its largest single tensor against the device's biggest buffer (WebGPU's
 * maxStorageBufferBindingSize, WebGL's texture size) and its estimated total (weights, Adam's
 * two moments, gradients, activations) against the memory the browser reports. Returns why
 * not, or null.
 */
export function memoryCheck(h: Hyperparameters, vocab: number, limits: { maxTensorBytes: number; budgetBytes: number }): string | null {
  const f = 4;
  let params: number;
  let largest: number;
  let activations: number;
  if (h.model === 'minigpt') {
    const c = gptConfig(h, vocab);
    params = gptParameters(c);
    const tokens = h.batchSize * c.context;
    largest = Math.max(h.batchSize * c.heads * c.context * c.context, tokens * 4 * c.dim, tokens * vocab, vocab * c.dim, 4 * c.dim * c.dim);
    activations = c.layers * (h.batchSize * c.heads * c.context * c.context * 3 + tokens * c.dim * 16) + tokens * vocab * 3;
  } else if (h.model === 'cnn') {
    params = 8 * 9 + 8 + 16 * 8 * 9 + 16 + 400 * h.hidden + h.hidden + h.hidden * 10 + 10;
    largest = Math.max(h.batchSize * 26 * 26 * 8, 400 * h.hidden);
    activations = h.batchSize * (26 * 26 * 8 * 3 + 11 * 11 * 16 * 3 + h.hidden * 3);
  } else {
    params = 784 * h.hidden + h.hidden * h.hidden + h.hidden * 10 + 2 * h.hidden + 10;
    largest = Math.max(784 * h.hidden, h.hidden * h.hidden, h.batchSize * h.hidden);
    activations = h.batchSize * (784 + h.hidden * 6);
  }
  const mb = (n: number) => (n >= 2 ** 30 ? `${(n / 2 ** 30).toFixed(1)} GiB` : `${(n / 2 ** 20).toFixed(0)} MiB`);
  if (largest * f > limits.maxTensorBytes)
    return `its largest tensor needs ${mb(largest * f)}, and this backend holds at most ${mb(limits.maxTensorBytes)} in one buffer`;
  const total = (params * 4 + activations) * f;
  if (total > limits.budgetBytes) return `it needs about ${mb(total)} (${params.toLocaleString()} parameters with Adam's state, plus activations), and this device offers about ${mb(limits.budgetBytes)}`;
  return null;
}

/** What the current backend can hold (after {@link chooseBackend}). */
export async function backendLimits(): Promise<{ maxTensorBytes: number; budgetBytes: number }> {
  const deviceGiB = (navigator as unknown as { deviceMemory?: number }).deviceMemory ?? 4;
  const budgetBytes = Math.min(deviceGiB, 8) * 2 ** 30 * 0.5;
  const backend = tf.getBackend();
  if (backend === 'webgpu') {
    const device = (tf.backend() as unknown as { device?: { limits: { maxStorageBufferBindingSize: number; maxBufferSize: number } } }).device;
    const l = device?.limits;
    return { maxTensorBytes: l ? Math.min(l.maxStorageBufferBindingSize, l.maxBufferSize) : 128 * 2 ** 20, budgetBytes };
  }
  if (backend === 'webgl') {
    const side = tf.env().getNumber('WEBGL_MAX_TEXTURE_SIZE');
    return { maxTensorBytes: side * side * 4 * 4, budgetBytes };
  }
  // The cpu backend keeps each tensor in one typed array.
  return { maxTensorBytes: 2 ** 31 - 1, budgetBytes };
}

/** A model that does not fit, said before it is built. */
export class ModelTooBigError extends Error {
  constructor(why: string) {
    super(`The model does not fit in this device's memory: ${why}. Make it smaller (model size, layers, context) or use a smaller batch.`);
    this.name = 'ModelTooBigError';
  }
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
  /** MNIST for the MLP and CNN. */
  mnist?: { train: Dataset; test: Dataset };
  /** Moby Dick for MiniGPT. */
  text?: TextCorpus;
  onProgress: (p: Progress) => void;
  onPending: (p: PendingPrompt) => void;
  /** Polled between steps: true asks the loop to stop. */
  shouldStop: () => boolean;
  /** Receives the session's controls once it exists: pause and resume go through the server, so every dashboard sees them. */
  onControls?: (c: SessionControls) => void;
}

/** What the page's buttons call while training runs. */
export interface SessionControls {
  pause(): Promise<void>;
  resume(): Promise<void>;
  stop(): Promise<void>;
}

/** How a run ended: `finished`, stopped from a dashboard, timed out pending, or cancelled from the page. */
export interface TrainResult {
  ended: 'finished' | 'stopped' | 'timeout' | 'cancelled';
  sessionId: number | null;
  message: string;
}

/** The model on its data, before any session exists: a model that cannot be built starts none. */
function buildTask(o: TrainOptions, optimizer: tf.Optimizer): Task {
  if (o.hyper.model === 'minigpt') {
    if (!o.text) throw new Error('Moby Dick is not loaded');
    return textTask(o.hyper, o.text, optimizer);
  }
  if (!o.mnist) throw new Error('MNIST is not loaded');
  return mnistTask(o.hyper, o.faults, o.mnist.train, o.mnist.test, optimizer);
}

/**
 * Trains with the Observer; resolves with how it ended. Yields to the browser every step.
 * Nothing is left behind on any path out: the model and tensors are disposed, the observer
 * closed (console restored, socket closed), and a session that exists ends stopped,
 * completed or, when training throws, `failed` with a log line saying why.
 * @throws ModelTooBigError before anything is allocated when the model cannot fit (no session starts)
 * @throws Error when the model cannot be built (no session starts) or training fails (the session is marked failed)
 */
export async function train(o: TrainOptions): Promise<TrainResult> {
  const tooBig = memoryCheck(o.hyper, o.text?.vocabulary.length ?? 0, await backendLimits());
  if (tooBig) throw new ModelTooBigError(tooBig);
  const optimizer = tf.train.adam(o.hyper.learningRate);
  try {
    const task = buildTask(o, optimizer);
    try {
      const progress = { step: 0, lastLoss: null as number | null };
      const obs: Observer = await Observer.create({
        projectId: o.projectId,
        runName: o.runName,
        config: { serverUrl: location.origin, carbonTrackerMode: 'offline', apiKey: storedApiKey() },
        onPending: o.onPending,
        onPaused: (held) => o.onProgress({ ...progress, unsent: obs.unsent, connected: obs.connected, paused: held, sessionId: obs.sessionId }),
        metadata: { trainer: 'web', faults: { ...o.faults } },
      });
      return await runObserved(runObserverOf(obs), () => trainObserved(o, obs, task, optimizer, progress));
    } finally {
      task.dispose();
    }
  } finally {
    optimizer.dispose();
  }
}

/** The training loop, with the session open; {@link train} owns everything it uses. */
async function trainObserved(o: TrainOptions, obs: Observer, task: Task, optimizer: tf.Optimizer, progress: { step: number; lastLoss: number | null }): Promise<TrainResult> {
  const { hyper: h, faults } = o;
  obs.logHyperparameters({ ...h, optimizer: 'adam', dataset: task.dataset, faults: { ...faults } });
  obs.registerModel(task.observed, task.probe ? { probe: task.probe } : {});
  o.onControls?.({ pause: () => obs.pause(), resume: () => obs.resume(), stop: () => obs.decide('stop') });
  const leaked: tf.Tensor[] = [];
  try {
    for (let step = 0; step < h.steps; step++) {
      if (o.shouldStop()) {
        await obs.decide('stop').catch(() => {});
        return { ended: 'cancelled', sessionId: obs.sessionId, message: `stopped from the page at step ${step}` };
      }
      if (faults.lrSpikeAt !== null && step === faults.lrSpikeAt) (optimizer as unknown as { learningRate: number }).learningRate = h.learningRate * 100;
      let loss: tf.Scalar;
      if (obs.shouldProfile(step)) loss = await task.profile(obs, step);
      else {
        const b = task.batch(step);
        loss = optimizer.minimize(b.loss, true, task.variables)!;
        tf.dispose(b.inputs);
      }
      const reported = faults.nanAt.includes(step) ? loss.mul(Number.NaN) : loss;
      obs.step(step, reported, { batchSize: h.batchSize, ...(h.model === 'minigpt' ? { seqLength: h.context } : {}) });
      if (faults.leak) leaked.push(tf.keep(task.leakable(step)));
      tf.dispose([loss, reported]);
      // Yield to the page; the observer's NaN watch resolves meanwhile, and a broken loss is flushed at once.
      await tf.nextFrame();
      if (obs.flushDue || (step + 1) % h.flushEvery === 0 || step === h.steps - 1) {
        const val = task.validation();
        const valLoss = (await val.data())[0]!;
        val.dispose();
        const record = await obs.flush({ valMetrics: { val_loss: valLoss } });
        progress.lastLoss = (record.loss?.train_mean as number) ?? null;
      }
      progress.step = step + 1;
      o.onProgress({ ...progress, unsent: obs.unsent, connected: obs.connected, paused: false, sessionId: obs.sessionId });
      // Paused from this page or any dashboard: hold here until resumed (or stopped).
      await obs.holdIfPaused();
    }
    await obs.decide('complete').catch(() => {});
    return { ended: 'finished', sessionId: obs.sessionId, message: `trained ${h.steps} steps` };
  } catch (e) {
    // Outcomes, not failures: the session has already ended on the server.
    if (e instanceof SessionStoppedError) return { ended: 'stopped', sessionId: obs.sessionId, message: e.message };
    if (e instanceof PendingTimeoutError) return { ended: 'timeout', sessionId: obs.sessionId, message: e.message };
    throw e;
  } finally {
    tf.dispose(leaked);
  }
}
