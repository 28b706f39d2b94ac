import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { LayerHealthCollector } from './layer-health.ts';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

function net(biasInit?: number) {
  const m = tf.sequential();
  m.add(tf.layers.dense({ inputShape: [8], units: 16, activation: 'relu', name: 'hidden', ...(biasInit !== undefined ? { biasInitializer: tf.initializers.constant({ value: biasInit }) } : {}) }));
  m.add(tf.layers.dense({ units: 3, activation: 'softmax', name: 'out' }));
  m.compile({ optimizer: 'sgd', loss: 'categoricalCrossentropy' });
  return m;
}

const probe = () => ({ x: tf.randomUniform([32, 8], 0, 1, 'float32', 1), y: tf.oneHot(tf.tensor1d(Array.from({ length: 32 }, (_, i) => i % 3), 'int32'), 3) });

describe('layer health', () => {
  it('reports activations, gradient norms and sparsity of a healthy net, read once', async () => {
    const model = net();
    const h = new LayerHealthCollector(model, probe(), 1e-6);
    const before = tf.memory().numTensors;
    h.measure();
    // The measurement, and the 4 weights kept (shared buffers, no copies) to see how far they move.
    expect(tf.memory().numTensors).toBe(before + 1 + 4);
    const out = (await h.collect()) as any;
    expect(tf.memory().numTensors).toBe(before + 4);
    const hidden = out.layers.hidden;
    expect(hidden.activation_mean).toBeGreaterThan(0);
    expect(hidden.gradient_norm_mean).toBeGreaterThan(1e-6);
    expect(hidden.weight_sparsity).toBeLessThan(0.1);
    expect(hidden).toMatchObject({ is_dead: false, has_vanishing_gradients: false });
    expect(out.probe_samples).toBe(32);
    expect(await h.collect()).toBeNull();
  });

  it('uses at most maxProbe samples, from one forward pass, and releases only the slices it made', async () => {
    const p = probe();
    const model = net();
    const h = new LayerHealthCollector(model, p, 1e-6, 16);
    // Every forward pass through the model (predict or apply) runs this layer's call().
    const hidden = model.getLayer('hidden');
    const call = hidden.call.bind(hidden);
    let calls = 0;
    hidden.call = (...a: Parameters<typeof call>) => {
      calls++;
      return call(...a);
    };
    h.measure();
    // Activations and gradients from the same pass: the hidden layer ran once.
    expect(calls).toBe(1);
    expect(((await h.collect()) as any).probe_samples).toBe(16);
    const before = tf.memory().numTensors;
    h.dispose();
    expect(tf.memory().numTensors).toBe(before - 2 - 4);
    expect(p.x.isDisposed).toBe(false);
  });

  it('measures how far each layer moved since the last measurement: exactly 0 for a layer the optimizer leaves out', async () => {
    const model = net();
    const p = probe();
    const h = new LayerHealthCollector(model, p, 1e-6);
    h.measure();
    expect(((await h.collect()) as any).layers.hidden.update_ratio).toBeNull();
    // A hand-written loop whose variable list forgot the hidden layer.
    const optimizer = tf.train.sgd(0.5);
    const outVars = model.getLayer('out').trainableWeights.map((w) => (w as unknown as { read(): tf.Variable }).read());
    for (let i = 0; i < 3; i++) tf.dispose(optimizer.minimize(() => tf.losses.softmaxCrossEntropy(p.y, model.apply(p.x) as tf.Tensor) as tf.Scalar, true, outVars)!);
    h.measure();
    const layers = ((await h.collect()) as any).layers;
    expect(layers.hidden.update_ratio).toBe(0);
    expect(layers.out.update_ratio).toBeGreaterThan(1e-4);
    h.dispose();
  });

  it('finds a dead ReLU layer (strongly negative bias): every unit inactive, gradients gone', async () => {
    const h = new LayerHealthCollector(net(-50), probe(), 1e-6);
    h.measure();
    const hidden = ((await h.collect()) as any).layers.hidden;
    expect(hidden).toMatchObject({ dead_fraction: 1, is_dead: true, has_vanishing_gradients: true, gradient_norm_mean: 0 });
  });

  it('names the first layer whose statistics went NaN', async () => {
    const model = net();
    const [kernel, bias] = model.getLayer('hidden').getWeights();
    model.getLayer('hidden').setWeights([kernel!.mul(Number.NaN), bias!]);
    const h = new LayerHealthCollector(model, probe(), 1e-6);
    h.measure();
    expect(LayerHealthCollector.firstNonFinite(await h.collect())).toBe('hidden');
  });

  it('reports weight sparsity without a probe batch', async () => {
    const h = new LayerHealthCollector(net(), null, 1e-6);
    h.measure();
    const hidden = ((await h.collect()) as any).layers.hidden;
    expect(hidden).toMatchObject({ activation_mean: null, gradient_norm_mean: null });
    expect(hidden.weight_sparsity).toBeLessThan(0.1);
  });

  it('gives a custom model (named variables) gradient norms and sparsity from its probeLoss', async () => {
    const x = tf.randomUniform([16, 4], 0, 1, 'float32', 2);
    const w1 = tf.variable(tf.randomNormal([4, 8], 0, 0.5, 'float32', 3), true, 'w1');
    const w2 = tf.variable(tf.zeros([8, 1]), true, 'w2');
    // The second layer's weights are all zero: no gradient reaches the first.
    const probeLoss = () => x.matMul(w1).relu().matMul(w2).sub(1).square().mean() as tf.Scalar;
    const h = new LayerHealthCollector({ layers: { first: { variables: [w1] }, second: { variables: [w2] } }, probeLoss }, null, 1e-6);
    expect(h.layerNames).toEqual(['first', 'second']);
    h.measure();
    const out = (await h.collect()) as any;
    expect(out.layers.first).toMatchObject({ activation_mean: null, dead_fraction: null, is_dead: false, has_vanishing_gradients: true, gradient_norm_mean: 0 });
    expect(out.layers.second.gradient_norm_mean).toBeGreaterThan(0.1);
    expect(out.layers.second.weight_sparsity).toBe(1);
    tf.dispose([x, w1, w2]);
  });

  it('measures saturation of a tanh layer and how much its units differ', async () => {
    const build = (init: ReturnType<typeof tf.initializers.constant>) => {
      const m = tf.sequential();
      m.add(tf.layers.dense({ inputShape: [8], units: 16, activation: 'tanh', name: 'hidden', kernelInitializer: init }));
      m.add(tf.layers.dense({ units: 3, activation: 'softmax', name: 'out' }));
      m.compile({ optimizer: 'sgd', loss: 'categoricalCrossentropy' });
      return m;
    };
    const p = probe();
    const measure = async (m: tf.LayersModel, x: tf.Tensor) => {
      const h = new LayerHealthCollector(m, { x, y: p.y }, 1e-6);
      h.measure();
      return ((await h.collect()) as any).layers.hidden;
    };
    const glorot = build(tf.initializers.glorotUniform({ seed: 1 }));
    const normal = await measure(glorot, p.x);
    expect(normal.saturated_fraction).toBeLessThan(0.2);
    expect(normal.unit_diversity).toBeGreaterThan(0.3);
    const big = p.x.mul(100);
    expect((await measure(glorot, big)).saturated_fraction).toBeGreaterThan(0.8);
    const constant = await measure(build(tf.initializers.constant({ value: 0.05 })), p.x);
    expect(constant.unit_diversity).toBeLessThan(0.01);
    expect(constant.activation_std).toBeGreaterThan(1e-3);
    tf.dispose([big, p.x, p.y]);
  });
});
