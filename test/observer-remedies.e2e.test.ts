import * as tf from '@tensorflow/tfjs';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock, Observer, type PendingPrompt } from '../observer/index.ts';
import { loadMnist } from './helpers/mnist.ts';
import { disposeAll, post, startTestServer, waitUntil } from './helpers/server.ts';

beforeAll(async () => {
  await tf.setBackend('cpu');
});
afterEach(disposeAll);

const QUIET = { trackConsoleLogs: false, trackErrorLogs: false, trackProfiler: false, trackCarbonEmissions: false, trackLayerHealth: false };

async function serverWithProject() {
  const s = await startTestServer();
  await post(`${s.url}/projects`, { name: 'remedies' });
  return s;
}

interface Remedies {
  items: { id: number; source: string | null; remedies: { kind: string }[]; report: { kind: string; applied: boolean; detail: string | null }[] | null }[];
}

/**
 * A hand-written MNIST loop (SGD 0.1, batches of 50, a flush every 5 steps) whose learning rate
 * jumps to `spikeTo` at `spikeAt`, as a bad schedule would: the loss breaks within a few steps. Each
 * pause is answered by `answer`. Returns the mean train loss of each flush and the optimizer.
 */
async function spikedRun(obs: Observer, opts: { steps: number; spikeAt: number; spikeTo: number }) {
  const { xs, ys } = loadMnist(20);
  // Scores regressed onto the one-hot labels (squared error): a step too large grows them geometrically, to Infinity and NaN within a few steps.
  const model = tf.sequential({
    layers: [
      tf.layers.dense({ inputShape: [784], units: 32, activation: 'relu', name: 'hidden', kernelInitializer: tf.initializers.heNormal({ seed: 1 }) }),
      tf.layers.dense({ units: 10, name: 'out', kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) }),
    ],
  });
  const optimizer = tf.train.sgd(0.1);
  obs.registerModel(model, { optimizer });
  const losses: { step: number; mean: number }[] = [];
  let prompts = 0;
  for (let step = 0; step < opts.steps; step++) {
    if (step === opts.spikeAt) optimizer.setLearningRate(opts.spikeTo);
    const begin = (step % 4) * 50;
    const [x, y] = [xs.slice([begin, 0], [50, -1]), ys.slice([begin, 0], [50, -1])];
    const loss = optimizer.minimize(() => tf.losses.meanSquaredError(y, model.apply(x) as tf.Tensor) as tf.Scalar, true)!;
    obs.step(step, loss, { batchSize: 50 });
    tf.dispose([loss, x, y]);
    await new Promise((r) => setImmediate(r));
    if (obs.flushDue || (step + 1) % 5 === 0) {
      const r = await obs.flush();
      losses.push({ step, mean: r.loss?.train_mean ?? Number.NaN });
    }
    await obs.holdIfPaused();
  }
  tf.dispose([xs, ys]);
  return { losses, optimizer, model };
}

describe('remedies applied by the observer', () => {
  it('a NaN after a learning-rate spike pauses; resuming with rollback + lower learning rate brings the loss back under its pre-spike level, and the report is stored', async () => {
    const s = await serverWithProject();
    const prompts: PendingPrompt[] = [];
    const obs = await Observer.create({
      projectId: 1,
      runName: 'spike',
      config: { serverUrl: s.url, ...QUIET },
      onPending: (p) => {
        prompts.push(p);
        void p.resume(p.remedies);
      },
    });
    const { losses, optimizer, model } = await spikedRun(obs, { steps: 90, spikeAt: 40, spikeTo: 1e4 });
    await obs.close();

    expect(prompts).toHaveLength(1);
    const kinds = prompts[0]!.remedies.map((r) => r.kind);
    expect(kinds).toEqual(expect.arrayContaining(['rollback', 'scale_learning_rate']));
    for (const r of prompts[0]!.remedies) expect(r.reason).toMatch(/\w/);
    // The learning rate really changed on the optimizer: back from 100 to where the rules said.
    const factor = prompts[0]!.remedies.find((r) => r.kind === 'scale_learning_rate')!.factor!;
    expect(optimizer.getConfig().learningRate).toBeCloseTo(1e4 * factor);
    expect(optimizer.getConfig().learningRate).toBeLessThanOrEqual(10);
    expect(obs.learningRateScale).toBeCloseTo(factor);
    const applied = obs.remedyHistory[0]!;
    expect(applied.results.find((r) => r.kind === 'rollback')).toMatchObject({ applied: true, detail: expect.stringMatching(/^restored the weights and the optimizer state of step \d+$/) });

    // Before the spike, the NaN, and the loss after the fix back under its pre-spike level.
    const preSpike = losses.filter((l) => l.step < 40).at(-1)!.mean;
    expect(losses.some((l) => !Number.isFinite(l.mean))).toBe(true);
    const final = losses.at(-1)!.mean;
    expect(Number.isFinite(final)).toBe(true);
    expect(final).toBeLessThan(preSpike);

    // The report is stored with the application, one result per chosen remedy.
    let stored: Remedies | null = null;
    await waitUntil(async () => {
      stored = (await (await fetch(`${s.url}/sessions/${obs.sessionId}/remedies`)).json()) as Remedies;
      return stored.items[0]?.report != null;
    }, 'the remedies report');
    const item = stored!.items[0]!;
    expect(item.source).toBe('observer:prompt');
    expect(item.report!.map((r) => r.kind).sort()).toEqual(item.remedies.map((r) => r.kind).sort());
    expect(item.report!.every((r) => r.applied && r.detail)).toBe(true);
    // Each flush told the server the learning rate it trained with.
    // The body is the seed's extended JSON (a NaN step's loss is NaN): counted as text.
    const body = await (await fetch(`${s.url}/sessions/${obs.sessionId}/steps?limit=1000`)).text();
    expect(body.match(/"learning_rate":\s*[\d.e+-]+/g)).toHaveLength(losses.length);
    model.dispose();
    optimizer.dispose();
  }, 60_000);

  it('a resume without remedies changes nothing: no restore, the same learning rate, no report', async () => {
    const s = await serverWithProject();
    let pauses = 0;
    const obs = await Observer.create({
      projectId: 1,
      runName: 'plain',
      config: { serverUrl: s.url, ...QUIET },
      onPending: (p) => {
        pauses++;
        void p.resume();
      },
    });
    const { optimizer, model } = await spikedRun(obs, { steps: 65, spikeAt: 40, spikeTo: 100 });
    await obs.close();
    expect(pauses).toBeGreaterThan(0);
    expect(optimizer.getConfig().learningRate).toBe(100);
    expect(obs.remedyHistory).toEqual([]);
    expect(obs.learningRateScale).toBe(1);
    const stored = (await (await fetch(`${s.url}/sessions/${obs.sessionId}/remedies`)).json()) as Remedies;
    expect(stored.items).toEqual([]);
    model.dispose();
    optimizer.dispose();
  }, 60_000);

  it("in model.fit: a NaN batch pauses, and resuming with the remedies restores the last healthy weights and the compiled optimizer's state", async () => {
    const s = await serverWithProject();
    const prompts: PendingPrompt[] = [];
    const obs = await Observer.create({
      projectId: 1,
      runName: 'fit',
      config: { serverUrl: s.url, ...QUIET },
      onPending: (p) => {
        prompts.push(p);
        void p.resume(p.remedies);
      },
    });
    const { xs, ys } = loadMnist(20);
    // One sample of batch 12 is NaN: that batch's update breaks the weights.
    const bad = tf.tidy(() => tf.where(tf.oneHot(tf.tensor1d([120], 'int32'), 200).reshape([200, 1]).cast('bool'), tf.fill([200, 784], Number.NaN), xs));
    const model = tf.sequential({ layers: [tf.layers.dense({ inputShape: [784], units: 16, activation: 'relu' }), tf.layers.dense({ units: 10, activation: 'softmax' })] });
    model.compile({ optimizer: tf.train.adam(0.003), loss: 'categoricalCrossentropy' });
    obs.registerModel(model);
    await model.fit(bad, ys, { epochs: 1, batchSize: 10, shuffle: false, callbacks: obs.callbacks({ flushEvery: 4 }) });
    await obs.close();
    expect(prompts).toHaveLength(1);
    expect(prompts[0]!.remedies.map((r) => r.kind)).toContain('rollback');
    const results = obs.remedyHistory[0]!.results;
    expect(results.find((r) => r.kind === 'rollback')).toMatchObject({ applied: true, detail: expect.stringMatching(/weights and the optimizer state of step \d+/) });
    // Restored: the weights after the rest of the epoch are finite again.
    const finite = tf.tidy(() => tf.stack(model.getWeights().map((w) => w.isFinite().all().cast('float32'))).min());
    expect((await finite.data())[0]).toBe(1);
    tf.dispose([finite, xs, ys, bad]);
    model.dispose();
  }, 60_000);

  it("with onPendingTimeout: 'remedy', a pause nobody answers resumes with the top issue's remedies (chosen by observer:timeout)", async () => {
    const s = await serverWithProject();
    const clock = new ManualClock();
    const obs = await Observer.create({
      projectId: 1,
      runName: 'unattended',
      clock,
      config: { serverUrl: s.url, ...QUIET, onPendingTimeout: 'remedy' },
      // Nobody answers: the 39 s pass at once on the manual clock.
      onPending: () => clock.advance(39_000),
    });
    const { losses, optimizer, model } = await spikedRun(obs, { steps: 70, spikeAt: 40, spikeTo: 1e4 });
    await obs.close();
    expect(obs.remedyHistory).toHaveLength(1);
    expect(obs.remedyHistory[0]!.results.map((r) => r.kind)).toContain('rollback');
    expect(Number.isFinite(losses.at(-1)!.mean)).toBe(true);
    const stored = (await (await fetch(`${s.url}/sessions/${obs.sessionId}/remedies`)).json()) as Remedies;
    expect(stored.items.map((i) => i.source)).toEqual(['observer:timeout']);
    model.dispose();
    optimizer.dispose();
  }, 60_000);
});
