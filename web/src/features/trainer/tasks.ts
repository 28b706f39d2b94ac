/**
 * The trainer's tasks: a model on its data, as the training loop needs it (a step's loss, a
 * validation loss, profiling, the model for the Observer). MNIST for the MLP and CNN, Moby
 * Dick for MiniGPT.
 */
import * as tf from '@tensorflow/tfjs';
import type { ObservableModel, Observer } from '@observer/tfjs';
import { seededRandom, textBatch, toTensors, type Dataset, type TextCorpus } from './data.ts';
import { gptConfig, type Faults, type Hyperparameters } from './hyperparameters.ts';
import { MiniGpt } from './minigpt.ts';

/** One model on its data, as the loop needs it: a step's loss, a validation loss, the model for the Observer. */
export interface Task {
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

/** What a task is built from: the form's choices and the loaded data. */
export interface TaskInputs {
  hyper: Hyperparameters;
  faults: Faults;
  /** MNIST for the MLP and CNN. */
  mnist?: { train: Dataset; test: Dataset } | undefined;
  /** Moby Dick for MiniGPT. */
  text?: TextCorpus | undefined;
}

/** The model on its data, before any session exists: a model that cannot be built starts none. */
export function buildTask(o: TaskInputs, optimizer: tf.Optimizer): Task {
  if (o.hyper.model === 'minigpt') {
    if (!o.text) throw new Error('Moby Dick is not loaded');
    return textTask(o.hyper, o.text, optimizer);
  }
  if (!o.mnist) throw new Error('MNIST is not loaded');
  return mnistTask(o.hyper, o.faults, o.mnist.train, o.mnist.test, optimizer);
}
