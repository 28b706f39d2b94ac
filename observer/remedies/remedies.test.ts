import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { RemedyApplier } from './apply.ts';
import { clipByGlobalNorm, installClipping } from './clip.ts';
import { LEARNING_RATE_OPTIMIZERS, learningRateOf, setLearningRateOf } from './learning-rate.ts';
import { SnapshotStore, worthKeeping } from './snapshots.ts';
import { inApplyOrder, START_OF_RUN, topRemedies } from './types.ts';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const OPTIMIZERS: Record<(typeof LEARNING_RATE_OPTIMIZERS)[number], (lr: number) => tf.Optimizer> = {
  SGD: (lr) => tf.train.sgd(lr),
  Momentum: (lr) => tf.train.momentum(lr, 0.9),
  Adam: (lr) => tf.train.adam(lr),
  Adamax: (lr) => tf.train.adamax(lr),
  RMSProp: (lr) => tf.train.rmsprop(lr),
  Adagrad: (lr) => tf.train.adagrad(lr),
  Adadelta: (lr) => tf.train.adadelta(lr),
};

/** A variable and a loss on it, to train with any optimizer. */
function problem(seed = 1) {
  const w = tf.variable(tf.randomNormal([4, 3], 0, 1, 'float32', seed));
  const x = tf.randomNormal([8, 4], 0, 1, 'float32', seed + 1);
  const loss = () => x.matMul(w).square().mean() as tf.Scalar;
  const step = (o: tf.Optimizer) => tf.dispose(o.minimize(loss, true, [w]) ?? []);
  return { w, x, loss, step, dispose: () => tf.dispose([w, x]) };
}

const values = async (t: tf.Tensor) => Array.from(await t.data());

describe('learning rate', () => {
  it.each(Object.keys(OPTIMIZERS) as (keyof typeof OPTIMIZERS)[])('reads and changes the learning rate of %s, effective at the next update', async (name) => {
    const o = OPTIMIZERS[name](0.05);
    const p = problem();
    expect(o.getClassName()).toBe(name);
    expect(learningRateOf(o)).toBe(0.05);
    p.step(o);
    expect(setLearningRateOf(o, 0)).toBe(true);
    expect(learningRateOf(o)).toBe(0);
    const before = await values(p.w);
    p.step(o);
    // A learning rate of 0 moves nothing: the optimizer really uses the new rate.
    expect(await values(p.w)).toEqual(before);
    o.dispose();
    p.dispose();
  });
});

describe('clipping by global norm', () => {
  it('scales every gradient so their global norm is at most maxNorm, and leaves smaller ones alone', async () => {
    const grads = { a: tf.tensor1d([3, 0]), b: tf.tensor1d([0, 4]) };
    const clipped = clipByGlobalNorm(grads, 1);
    expect(await values(clipped.a)).toEqual([expect.closeTo(0.6, 6), 0]);
    expect(await values(clipped.b)).toEqual([0, expect.closeTo(0.8, 6)]);
    const loose = clipByGlobalNorm([{ name: 'a', tensor: grads.a }], 10);
    expect(await values(loose[0]!.tensor)).toEqual([3, 0]);
    tf.dispose([grads.a, grads.b, clipped.a, clipped.b, loose[0]!.tensor]);
  });

  it("clips inside the optimizer's applyGradients once installed, so minimize (and model.fit) clip too, without leaking tensors", async () => {
    const p = problem();
    const o = tf.train.sgd(1);
    let norm: number | null = null;
    installClipping(o, () => norm);
    const w0 = p.w.clone();
    p.step(o);
    const unclipped = tf.tidy(() => p.w.sub(w0).norm());
    p.w.assign(w0);
    norm = 1e-3;
    const count = tf.memory().numTensors;
    p.step(o);
    expect(tf.memory().numTensors).toBe(count);
    const moved = tf.tidy(() => p.w.sub(w0).norm());
    expect((await moved.data())[0]).toBeCloseTo(1e-3, 6);
    expect((await unclipped.data())[0]).toBeGreaterThan(0.01);
    tf.dispose([w0, unclipped, moved, p.w, p.x]);
    o.dispose();
  });
});

describe('snapshots', () => {
  it('restores the weights and Adam state of the newest snapshot at or before a step, keeping at most 2, with no readback when taken', async () => {
    const p = problem();
    const o = tf.train.adam(0.1);
    const store = new SnapshotStore(2);
    const at: Record<number, number[]> = {};
    const proto = tf.Tensor.prototype as unknown as Record<string, unknown>;
    const [data, dataSync] = [proto.data, proto.dataSync];
    let reads = 0;
    for (let flush = 0; flush < 4; flush++) {
      p.step(o);
      at[flush] = await values(p.w);
      proto.data = function (this: tf.Tensor) {
        reads++;
        return (data as () => unknown).call(this);
      };
      proto.dataSync = function (this: tf.Tensor) {
        reads++;
        return (dataSync as () => unknown).call(this);
      };
      store.take(flush, [p.w], o);
      Object.assign(proto, { data, dataSync });
    }
    expect(reads).toBe(0);
    expect(store.steps).toEqual([2, 3]);
    p.step(o);
    p.step(o);
    expect(store.restore(2, o)).toBe(2);
    expect(await values(p.w)).toEqual(at[2]);
    // The optimizer state came back too: the next update from it is the one taken after flush 2.
    const fresh = problem();
    const o2 = tf.train.adam(0.1);
    for (let i = 0; i < 4; i++) fresh.step(o2);
    p.step(o);
    expect((await values(p.w)).map((v) => v.toFixed(5))).toEqual((await values(fresh.w)).map((v) => v.toFixed(5)));
    expect(store.steps).toEqual([2]);
    expect(store.restore(1, o)).toBeNull();
    store.dispose();
    o.dispose();
    o2.dispose();
    p.dispose();
    fresh.dispose();
  });

  it('holds no tensor after dispose, and drops optimizer slots made after the snapshot', () => {
    const p = problem();
    const o = tf.train.momentum(0.1, 0.9);
    const before = tf.memory().numTensors;
    const store = new SnapshotStore(2);
    store.take(0, [p.w], o);
    p.step(o);
    p.step(o);
    expect(store.restore(0, o)).toBe(0);
    p.step(o);
    store.dispose();
    // One momentum slot (made by the step after the restore) and the optimizer's scalars remain.
    expect(tf.memory().numTensors).toBe(before + 1);
    o.dispose();
    p.dispose();
  });
});

describe('the state the run started with', () => {
  it('is kept besides the last 2 flushes, and a rollback to step -1 restores it with fresh optimizer state', async () => {
    const p = problem();
    const o = tf.train.adam(0.1);
    const store = new SnapshotStore(2);
    const start = await values(p.w);
    store.take(START_OF_RUN, [p.w], o, true);
    for (let flush = 0; flush < 4; flush++) {
      p.step(o);
      store.take(flush, [p.w], o);
    }
    expect(store.steps).toEqual([START_OF_RUN, 2, 3]);
    const applier = new RemedyApplier({ variables: () => [p.w], optimizer: () => o, snapshots: store });
    const [result] = applier.apply([{ kind: 'rollback', toStep: START_OF_RUN }]);
    expect(result).toEqual({ kind: 'rollback', applied: true, detail: 'restored the weights and the optimizer state the run started with' });
    expect(await values(p.w)).toEqual(start);
    expect(store.steps).toEqual([START_OF_RUN]);
    // Adam starts over: the next update is a new run's first.
    const fresh = problem();
    const o2 = tf.train.adam(0.1);
    p.step(o);
    fresh.step(o2);
    expect((await values(p.w)).map((v) => v.toFixed(5))).toEqual((await values(fresh.w)).map((v) => v.toFixed(5)));
    // A skip of the first flush's batch goes back to it too.
    expect(applier.apply([{ kind: 'skip_batch', atStep: 0 }])[0]).toMatchObject({ applied: true, detail: expect.stringContaining('the run started with') });
    o.dispose();
    o2.dispose();
    store.dispose();
    p.dispose();
    fresh.dispose();
  });
});

describe('which healthy flushes are kept', () => {
  it('keeps a flush whose loss is finite and within 1.5x the best, unless the learning rate just rose 1.5x', () => {
    const f = { loss: 1, best: 0.8, learningRate: 0.1, previousLearningRate: 0.1 };
    expect(worthKeeping(f)).toBe(true);
    expect(worthKeeping({ ...f, loss: 1.3 })).toBe(false);
    expect(worthKeeping({ ...f, loss: Number.NaN })).toBe(false);
    expect(worthKeeping({ ...f, learningRate: 10 })).toBe(false);
    expect(worthKeeping({ loss: null, best: null, learningRate: null, previousLearningRate: null })).toBe(true);
  });
});

describe('applying remedies', () => {
  it('applies in the order rollback, skip the batch, scale the learning rate, clip, and says what came of each', () => {
    const p = problem();
    const o = tf.train.sgd(0.5);
    const store = new SnapshotStore(2);
    const applier = new RemedyApplier({ variables: () => [p.w], optimizer: () => o, snapshots: store });
    store.take(4, [p.w], o);
    const order = inApplyOrder([
      { kind: 'clip_gradients', maxNorm: 2 },
      { kind: 'scale_learning_rate', factor: 0.1 },
      { kind: 'skip_batch', atStep: 6 },
      { kind: 'rollback', toStep: 5 },
    ]);
    const results = applier.apply(order);
    expect(results.map((r) => [r.kind, r.applied])).toEqual([
      ['rollback', true],
      ['skip_batch', true],
      ['scale_learning_rate', true],
      ['clip_gradients', true],
    ]);
    expect(results[0]!.detail).toBe('restored the weights and the optimizer state of step 4');
    expect(results[2]!.detail).toBe('learning rate 0.5 -> 0.05 (SGD)');
    expect(learningRateOf(o)).toBeCloseTo(0.05);
    expect(applier.learningRateScale).toBeCloseTo(0.1);
    expect(applier.clipNorm).toBe(2);
    store.dispose();
    o.dispose();
    p.dispose();
  });

  it('reports what it cannot apply, never silently: no snapshot, snapshots off, no optimizer', () => {
    const p = problem();
    const none = new RemedyApplier({ variables: () => [p.w], optimizer: () => null, snapshots: null });
    expect(none.apply([{ kind: 'rollback', toStep: 3 }, { kind: 'scale_learning_rate', factor: 0.1 }])).toEqual([
      { kind: 'rollback', applied: false, detail: 'snapshots are off (config.snapshots: false): nothing to restore' },
      { kind: 'scale_learning_rate', applied: false, detail: expect.stringContaining('no optimizer known') },
    ]);
    const empty = new RemedyApplier({ variables: () => [p.w], optimizer: () => null, snapshots: new SnapshotStore() });
    expect(empty.apply([{ kind: 'skip_batch', atStep: 3, trainingStep: 61 }])).toEqual([
      { kind: 'skip_batch', applied: false, detail: 'cannot undo the update of training step 61: no snapshot kept yet (one is taken at each flush judged healthy)' },
    ]);
    p.dispose();
  });

  it('picks the most severe, then the most confident issue that proposes remedies', () => {
    const issue = (severity: 'critical' | 'warning', confidence: number, kind: 'rollback' | 'clip_gradients' | null) => ({ severity, confidence, remedies: kind ? [{ kind }] : [] });
    expect(topRemedies([issue('warning', 1, 'clip_gradients'), issue('critical', 0.6, 'rollback'), issue('critical', 0.9, null)])).toEqual([{ kind: 'rollback' }]);
    expect(topRemedies([issue('critical', 0.9, null)])).toEqual([]);
  });
});
