import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { profileFunction, profileTrainingStep } from './profiler.ts';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const options = { topN: 5, recordShapes: true, profileMemory: true };

function net() {
  const m = tf.sequential();
  m.add(tf.layers.dense({ inputShape: [16], units: 32, activation: 'relu', name: 'a' }));
  m.add(tf.layers.dense({ units: 4, activation: 'softmax', name: 'b' }));
  m.compile({ optimizer: 'sgd', loss: 'categoricalCrossentropy' });
  return m;
}

const batch = () => ({ x: tf.randomNormal([64, 16]), y: tf.oneHot(tf.tensor1d(Array.from({ length: 64 }, (_, i) => i % 4), 'int32'), 4) });

describe('profiler', () => {
  it('profiles a training step: top kernels with shapes, forward/backward split, per-layer timing, and the update happens', async () => {
    const model = net();
    const before = model.getLayer('a').getWeights()[0]!.clone();
    const { x, y } = batch();
    const { loss, profile } = await profileTrainingStep({ model, x, y, optimizer: tf.train.sgd(0.5) }, options);
    const p = profile as any;
    expect(loss.shape).toEqual([]);
    expect(p.forward_ms).toBeGreaterThan(0);
    expect(p.backward_ms).toBeGreaterThan(0);
    expect(p.top_operations.length).toBeLessThanOrEqual(5);
    // Which kernels make the top 5 varies with timing noise; a matmul always does.
    expect(p.top_operations.some((o: any) => /MatMul/.test(o.name))).toBe(true);
    expect(p.top_operations[0]).toMatchObject({ calls: expect.any(Number), input_shapes: expect.any(Array), bytes_added: expect.any(Number) });
    expect(p.per_layer.map((l: any) => l.layer)).toEqual(['a', 'b']);
    expect(p.per_layer[0]).toMatchObject({ bwd_estimated: true });
    expect(model.getLayer('a').getWeights()[0]!.sub(before).abs().max().dataSync()[0]).toBeGreaterThan(0);
  });

  it('measures only, without an optimizer: the weights stay as they were', async () => {
    const model = net();
    const before = model.getLayer('a').getWeights()[0]!.clone();
    const { x, y } = batch();
    const { loss } = await profileTrainingStep({ model, x, y }, options);
    loss.dispose();
    expect(model.getLayer('a').getWeights()[0]!.sub(before).abs().max().dataSync()[0]).toBe(0);
  });

  it('profiles any function: kernels and wall time, its result returned', async () => {
    const { result, profile } = await profileFunction(() => tf.matMul(tf.ones([8, 8]), tf.ones([8, 8])).sum(), options);
    expect((result as tf.Tensor).dataSync()[0]).toBe(512);
    expect(profile).toMatchObject({ kernel_count: expect.any(Number), wall_time_ms: expect.any(Number) });
    expect((profile.top_operations as any[]).map((o) => o.name)).toContain('BatchMatMul');
  });
});
