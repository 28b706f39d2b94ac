import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configAsSeed, resolveConfig, unsupportedSettings } from '../config.ts';
import { describeModel } from './architecture.ts';
import { LogCapture } from './logs.ts';
import { LossCollector, lossStats } from './loss.ts';
import { ThroughputCollector } from './throughput.ts';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('loss collector', () => {
  it('computes mean, min, max and std over the flush and pins the first non-finite step', () => {
    const s = lossStats([{ step: 3, value: 2 }, { step: 1, value: 4 }, { step: 2, value: Number.NaN }]);
    expect(s).toMatchObject({ num_batches: 3, first_non_finite_step: 2 });
    expect(s.train_mean).toBeNaN();
    expect(lossStats([{ step: 0, value: 1 }, { step: 1, value: 3 }])).toMatchObject({ train_mean: 2, train_min: 1, train_max: 3, train_std: 1, first_non_finite_step: null });
  });

  it('reads tensors and numbers once at collect, with a flat tensor count meanwhile', async () => {
    const c = new LossCollector();
    const counts: number[] = [];
    for (let i = 0; i < 200; i++) {
      const t = tf.scalar(i === 7 ? Number.NaN : i);
      c.add(i, t);
      t.dispose();
      counts.push(tf.memory().numTensors);
    }
    c.add(200, 1000);
    // One more live buffer per 128 steps, nothing per step.
    expect(new Set(counts.slice(1, 128)).size).toBe(1);
    expect(counts[199]).toBe(counts[1]! + 1);
    const stats = await c.collect({ val_loss: 0.5 });
    expect(stats).toMatchObject({ num_batches: 201, train_max: Number.NaN, first_non_finite_step: 7, val: { val_loss: 0.5 } });
    expect(tf.memory().numTensors).toBe(counts[0]! - 1);
    c.dispose();
  });

  it('gives back every tensor it made once disposed', async () => {
    const before = tf.memory().numTensors;
    const c = new LossCollector();
    const t = tf.scalar(1);
    c.add(0, t);
    await c.collect();
    c.dispose();
    t.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('keeps a NaN loss in its own slot', async () => {
    const c = new LossCollector();
    for (const v of [1, Number.NaN, 3]) c.add(c.count, tf.scalar(v));
    const stats = await c.collect();
    expect(stats.first_non_finite_step).toBe(1);
    expect(lossStats([{ step: 0, value: 1 }, { step: 2, value: 3 }]).train_mean).toBe(2);
    c.dispose();
  });
});

describe('throughput collector', () => {
  it('turns samples and tokens into rates and resets', () => {
    const t = new ThroughputCollector();
    t.add(32, 64);
    t.add(32, 64);
    expect(t.collect(2)).toEqual({ samples_processed: 64, tokens_processed: 4096, samples_per_second: 32, tokens_per_second: 2048 });
    expect(t.collect(1).samples_processed).toBe(0);
  });
});

describe('config', () => {
  it('has the seed defaults, camelCase, and sends them snake_case', () => {
    const c = resolveConfig();
    expect(c).toMatchObject({ trackProfiler: true, profileAtStep: 0, profileEveryNSteps: null, profilerTopNOps: 20, layerHealthZeroThreshold: 1e-6, carbonCountryIso: 'IRL', pendingTimeout: 39 });
    expect(configAsSeed(c)).toMatchObject({ track_profiler: true, profile_at_step: 0, pending_timeout: 39 });
  });

  it('names a bad value', () => {
    expect(() => resolveConfig({ pendingTimeout: -1 })).toThrow('pendingTimeout must be a positive number');
    expect(() => resolveConfig({ carbonCountryIso: 'ie' })).toThrow('ISO 3166-1 alpha-3');
  });

  it('lists the settings tfjs cannot honour', () => {
    expect(unsupportedSettings(resolveConfig({ profilerWithStack: true, carbonTrackerMode: 'offline' }))).toEqual([expect.stringContaining('profilerWithStack')]);
  });
});

describe('architecture', () => {
  it('describes a functional model with a branch: parameters, layers, edges from real connectivity', () => {
    const input = tf.input({ shape: [4], name: 'in' });
    const a = tf.layers.dense({ units: 3, activation: 'relu', name: 'a' }).apply(input) as tf.SymbolicTensor;
    const b = tf.layers.dense({ units: 3, name: 'b' }).apply(input) as tf.SymbolicTensor;
    const sum = tf.layers.add({ name: 'sum' }).apply([a, b]) as tf.SymbolicTensor;
    const out = tf.layers.dense({ units: 2, activation: 'softmax', name: 'out' }).apply(sum) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: out });
    const arch = describeModel(model, true) as any;
    expect(arch).toMatchObject({ total_parameters: 15 + 15 + 8, num_parameter_layers: 3, layers: { a: { type: 'Dense', parameters: 15, activation: 'relu' }, out: { activation: 'softmax' } } });
    expect(arch.layer_graph.edges).toEqual(expect.arrayContaining([{ source: 'in', target: 'a' }, { source: 'a', target: 'sum' }, { source: 'b', target: 'sum' }, { source: 'sum', target: 'out' }]));
    expect(arch.layer_graph.sequential_path).toEqual(['in', 'a', 'b', 'sum', 'out']);
    expect(arch.layer_graph.dimension_flow.find((d: any) => d.layer === 'sum')).toMatchObject({ input_shape: [[null, 3], [null, 3]], output_shape: [null, 3] });
    model.dispose();
  });

  it('describes a custom model given as named variables', () => {
    const w = tf.variable(tf.zeros([4, 2]), true, 'w');
    const arch = describeModel({ name: 'Tiny', layers: { fc: { type: 'Linear', variables: [w] } } }, true) as any;
    expect(arch).toMatchObject({ model_class: 'Tiny', total_parameters: 8, layers: { fc: { type: 'Linear', parameters: 8, pct_of_total: 100 } } });
    w.dispose();
  });
});

describe('log capture', () => {
  let capture: LogCapture;
  afterAll(() => capture?.stop());

  it('captures console output while open, passes it through, and restores the console', () => {
    const original = console.info;
    capture = new LogCapture({ console: true, errors: true, maxBuffered: 2 });
    capture.start();
    console.info('one', { a: 1 });
    console.error(new Error('bad'));
    console.info('three');
    capture.stop();
    expect(console.info).toBe(original);
    const lines = capture.take();
    expect(lines.map((l) => [l.level, l.msg, l.kind])).toEqual([
      ['ERROR', 'Error: bad', 'error'],
      ['INFO', 'three', 'console'],
    ]);
    expect(capture.dropped).toBe(1);
  });
});

describe('memory and system', () => {
  it('reads tf.memory() and the process without syncing the device', async () => {
    const { collectMemory } = await import('./memory.ts');
    const { loadNodeOs } = await import('./environment.ts');
    await loadNodeOs();
    const t = tf.ones([256, 256]);
    const m = collectMemory() as Record<string, number>;
    expect(m.num_tensors).toBe(tf.memory().numTensors);
    expect(m.num_bytes).toBeGreaterThanOrEqual(256 * 256 * 4);
    expect(m.process_rss_mb).toBeGreaterThan(10);
    expect(m.system_total_mb).toBeGreaterThan(m.process_rss_mb!);
    t.dispose();
  });

  it('reports the backend and, in Node, CPU use over the interval and RAM use', async () => {
    const { SystemCollector } = await import('./system.ts');
    const { loadNodeOs } = await import('./environment.ts');
    await loadNodeOs();
    const s = new SystemCollector(null);
    const until = performance.now() + 50;
    while (performance.now() < until);
    const info = s.collect() as Record<string, number | string>;
    expect(info).toMatchObject({ backend: 'cpu', tfjs_version: tf.version.tfjs });
    expect(info.cpu_percent).toBeGreaterThan(0);
    expect(info.ram_percent).toBeGreaterThan(0);
    expect(info.cores).toBeGreaterThan(0);
  });
});
