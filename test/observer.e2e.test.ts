import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { ManualClock, Observer, PendingTimeoutError, SessionStoppedError, type PendingPrompt } from '../observer/index.ts';
import { loadMnist, mlp } from './helpers/mnist.ts';
import { disposeAll, gql, post, startTestServer, waitUntil } from './helpers/server.ts';

beforeAll(async () => {
  await tf.setBackend('cpu');
});
afterEach(disposeAll);

async function serverWithProject() {
  const s = await startTestServer();
  await post(`${s.url}/projects`, { name: 'observer' });
  return s;
}

type SessionData = { session: { status: string; model: { architecture: any } | null; steps: { stepIndex: number; loss: { trainMean: unknown; numBatches: number }; throughput: { samplesPerSecond: number }; memory: { numTensors: number }; record: any }[]; logs: { msg: string; level: string }[] } };
const SESSION = `query($id: Int!) { session(id: $id) { status model { architecture }
  steps { stepIndex loss { trainMean numBatches } throughput { samplesPerSecond } memory { numTensors } record }
  logs { msg level } } }`;

/** A hand-written training loop (optimizer.minimize), flushing every `flushEvery` steps. */
async function handLoop(obs: Observer, opts: { steps: number; flushEvery: number; nanAt?: number[]; onStep?: (step: number) => void; flushWhenDue?: boolean }) {
  const { xs, ys } = loadMnist(20);
  const model = mlp(16);
  obs.registerModel(model);
  const optimizer = tf.train.sgd(0.1);
  for (let step = 0; step < opts.steps; step++) {
    const loss = optimizer.minimize(() => tf.metrics.categoricalCrossentropy(ys, model.apply(xs) as tf.Tensor).mean() as tf.Scalar, true)!;
    // A transient NaN in the reported loss (the weights stay finite, so a later fault is a new one).
    const reported = opts.nanAt?.includes(step) ? loss.mul(Number.NaN) : loss;
    obs.step(step, reported, { batchSize: 200 });
    tf.dispose([loss, reported]);
    // A loop that yields between steps (as a browser loop does) lets the NaN watch resolve.
    if (opts.flushWhenDue) await new Promise((r) => setImmediate(r));
    if ((opts.flushWhenDue && obs.flushDue) || (step + 1) % opts.flushEvery === 0) await obs.flush();
    opts.onStep?.(step);
    await obs.holdIfPaused();
  }
}

/** Records every tensor readback (sync or async) until `restore()`. */
function spyReadbacks(): { calls: string[]; restore: () => void } {
  const proto = tf.Tensor.prototype as unknown as Record<string, (...a: unknown[]) => unknown>;
  const calls: string[] = [];
  const originals = Object.fromEntries(['dataSync', 'data', 'arraySync', 'array', 'bufferSync', 'buffer'].map((m) => [m, proto[m]!]));
  for (const [m, f] of Object.entries(originals))
    proto[m] = function (this: unknown, ...a: unknown[]) {
      calls.push(m);
      return f.apply(this, a);
    };
  return { calls, restore: () => Object.assign(proto, originals) };
}

/**
 * Trains a tiny linear model for 20 steps through `obs`: what each `step()` returned, and the
 * tensor count after each step (after a yield, when `yieldEachStep`). Its own tensors are
 * released at the end.
 */
async function trainTiny(obs: Observer, yieldEachStep: boolean): Promise<{ due: boolean[]; counts: number[] }> {
  const x = tf.randomNormal([8, 4]);
  const w = tf.variable(tf.randomNormal([4, 1]));
  const opt = tf.train.sgd(0.01);
  const due: boolean[] = [];
  const counts: number[] = [];
  for (let step = 0; step < 20; step++) {
    const loss = opt.minimize(() => x.matMul(w).square().mean() as tf.Scalar, true)!;
    due.push(obs.step(step, loss, { batchSize: 8 }));
    loss.dispose();
    if (yieldEachStep) await new Promise((r) => setImmediate(r));
    counts.push(tf.memory().numTensors);
  }
  x.dispose();
  w.dispose();
  return { due, counts };
}

describe('Observer with real tfjs training against the real server', () => {
  it('streams model.fit on MNIST: model, steps with loss, throughput and memory, and console logs', async () => {
    const s = await serverWithProject();
    const obs = await Observer.create({ projectId: 1, runName: 'fit', config: { serverUrl: s.url } });
    expect(obs.sessionId).toBe(1);
    obs.logHyperparameters({ learningRate: 0.05, batchSize: 50 });
    const model = mlp();
    obs.registerModel(model);
    const { xs, ys } = loadMnist(30);
    console.log('training starts');
    const history = await model.fit(xs, ys, { epochs: 2, batchSize: 50, validationSplit: 0.1, callbacks: obs.callbacks({ flushEvery: 2 }) });
    await obs.close();

    const { data } = await gql<SessionData>(s.url, SESSION, { id: 1 });
    const session = data!.session;
    expect(session.model!.architecture).toMatchObject({ total_parameters: 784 * 32 + 32 + 32 * 10 + 10, layers: { out: { activation: 'softmax' } }, loss: 'categoricalCrossentropy' });
    expect(session.model!.architecture.layer_graph.edges).toContainEqual({ source: 'hidden', target: 'out' });
    // 270 training samples, batches of 50: 6 batches an epoch, a flush every 2 and one at each epoch end.
    expect(session.steps.length).toBeGreaterThanOrEqual(6);
    const first = session.steps[0]!;
    expect(first.loss.numBatches).toBe(2);
    expect(first.loss.trainMean).toBeCloseTo(Math.log(10), 0);
    expect(first.throughput.samplesPerSecond).toBeGreaterThan(0);
    expect(first.memory.numTensors).toBeGreaterThan(0);
    const last = session.steps.at(-1)!;
    expect(last.record.loss.val.val_loss).toBeCloseTo(history.history.val_loss!.at(-1) as number, 4);
    expect(session.logs.map((l) => l.msg)).toContain('training starts');
  });

  it('pauses on a planted NaN, continues on resume, and ends with SessionStoppedError on stop', async () => {
    const s = await serverWithProject();
    const prompts: PendingPrompt[] = [];
    const obs = await Observer.create({
      projectId: 1,
      runName: 'nan',
      config: { serverUrl: s.url, trackConsoleLogs: false },
      onPending: (p) => {
        prompts.push(p);
        void (prompts.length === 1 ? p.resume() : p.stop());
      },
    });
    const run = handLoop(obs, { steps: 40, flushEvery: 4, nanAt: [9, 29] });
    await expect(run).rejects.toBeInstanceOf(SessionStoppedError);
    await obs.close();
    expect(prompts).toHaveLength(2);
    expect(prompts[0]!.issues[0]).toMatchObject({ severity: 'critical', category: 'loss', title: 'Loss is NaN' });
    expect(prompts[0]!.issues[0]!.description).toContain('at step 2 (training step 9)');
    expect(prompts[0]!.stepIndex).toBe(2);
    const { data } = await gql<SessionData>(s.url, SESSION, { id: 1 });
    expect(data!.session.status).toBe('stopped');
    const steps = data!.session.steps;
    expect(steps.map((x) => x.stepIndex)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(steps[2]!.loss.trainMean).toBe('NaN');
    expect(steps[2]!.record.observer).toMatchObject({ first_non_finite: { step: 9, flush: 2, channel: 'loss' } });
  });

  it('asks for a flush the step a loss goes NaN, so training pauses there and not at the next scheduled flush', async () => {
    const s = await serverWithProject();
    const prompts: PendingPrompt[] = [];
    const obs = await Observer.create({
      projectId: 1,
      runName: 'nan-now',
      config: { serverUrl: s.url, trackConsoleLogs: false },
      onPending: (p) => {
        prompts.push(p);
        void p.resume();
      },
    });
    let pausedAt = -1;
    await handLoop(obs, { steps: 30, flushEvery: 100, nanAt: [9], flushWhenDue: true, onStep: (step) => prompts.length && pausedAt < 0 && (pausedAt = step) });
    await obs.flush();
    await obs.close();
    expect(prompts).toHaveLength(1);
    expect(prompts[0]!.issues[0]).toMatchObject({ severity: 'critical', title: 'Loss is NaN' });
    // Flushed at step 9 itself (10 losses), and the loop was held right there.
    expect(pausedAt).toBe(9);
    const { data } = await gql<SessionData>(s.url, SESSION, { id: 1 });
    const steps = data!.session.steps;
    expect(steps[0]!.loss.numBatches).toBe(10);
    expect(steps[0]!.record.observer).toMatchObject({ first_non_finite: { step: 9, flush: 0, channel: 'loss' } });
    // One early flush, then the scheduled one at the end: 20 finite losses.
    expect(steps.map((x) => x.loss.numBatches)).toEqual([10, 20]);
  });

  it('holds while any client pauses the session, without a timeout, and goes on when resumed', async () => {
    const s = await serverWithProject();
    const held: boolean[] = [];
    // The observer's timeouts run on a clock the test moves: a day passes in no time.
    const clock = new ManualClock();
    const obs = await Observer.create({ projectId: 1, runName: 'pause', clock, config: { serverUrl: s.url, trackConsoleLogs: false }, onPaused: (p) => held.push(p) });
    let last = -1;
    const action = (a: string) => gql<{ sessionAction: { status: string } }>(s.url, 'mutation($a: SessionAction!) { sessionAction(sessionId: 1, action: $a) { status } }', { a });
    const run = handLoop(obs, {
      steps: 40,
      flushEvery: 4,
      onStep: (step) => {
        last = step;
        // A dashboard (another client) pauses once the run is under way.
        if (step === 9) void action('pause');
      },
    });
    await waitUntil(() => held.length === 1, 'the loop holds');
    const at = last;
    // Held a day, far past pendingTimeout (39 s): a person's pause never times out into a stop.
    clock.advance(24 * 3600 * 1000);
    await new Promise((r) => setImmediate(r));
    expect(last).toBe(at);
    expect(held).toEqual([true]);
    expect(at).toBeLessThan(39);
    const { data: paused } = await gql<SessionData>(s.url, SESSION, { id: 1 });
    expect(paused!.session.status).toBe('paused');
    expect((await action('resume')).data!.sessionAction.status).toBe('running');
    await run;
    await obs.close();
    expect(held).toEqual([true, false]);
    const { data } = await gql<SessionData>(s.url, SESSION, { id: 1 });
    expect(data!.session.steps.map((x) => x.stepIndex)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(data!.session.status).toBe('running');
  });

  it('saves a checkpoint and stops when nobody decides within pendingTimeout (39 s of its clock, in no real time)', async () => {
    const s = await serverWithProject();
    const dir = mkdtempSync(path.join(tmpdir(), 'observer-ckpt-'));
    const cwd = process.cwd();
    process.chdir(dir);
    try {
      const clock = new ManualClock();
      const prompts: PendingPrompt[] = [];
      const obs = await Observer.create({ projectId: 1, runName: 'timeout', clock, config: { serverUrl: s.url, trackConsoleLogs: false }, onPending: (p) => prompts.push(p) });
      const startedAt = Date.now();
      let ended = false;
      const run = handLoop(obs, { steps: 8, flushEvery: 4, nanAt: [1] }).finally(() => (ended = true));
      await waitUntil(() => prompts.length === 1, 'the NaN pauses the session');
      expect(prompts[0]!.deadline).toBe(clock.now() + 39_000);
      clock.advance(38_999);
      const { data: waiting } = await gql<SessionData>(s.url, SESSION, { id: 1 });
      expect(waiting!.session.status).toBe('pending');
      expect(ended).toBe(false);
      clock.advance(1);
      const err = await run.catch((e: unknown) => e);
      await obs.close();
      expect(err).toBeInstanceOf(PendingTimeoutError);
      expect(err).toMatchObject({ seconds: 39 });
      // The default 39-second timeout, taken in far less real time.
      expect(Date.now() - startedAt).toBeLessThan(20_000);
      expect((err as PendingTimeoutError).checkpoint).toContain('observer_checkpoints');
      const saved = readdirSync(path.join(dir, 'observer_checkpoints'));
      expect(saved).toHaveLength(1);
      const manifest = JSON.parse(readFileSync(path.join(dir, 'observer_checkpoints', saved[0]!, 'model.json'), 'utf8'));
      expect(manifest.weightsManifest[0].weights.map((w: { name: string }) => w.name)).toContain('hidden/kernel');
      await waitUntil(async () => (await gql<SessionData>(s.url, SESSION, { id: 1 })).data!.session.status === 'stopped', 'the session is stopped');
    } finally {
      process.chdir(cwd);
    }
  });

  it('measures layer health every N steps when asked, not at every flush', async () => {
    const s = await serverWithProject();
    const obs = await Observer.create({ projectId: 1, runName: 'cadence', config: { serverUrl: s.url, trackConsoleLogs: false, layerHealthEveryNSteps: 8 } });
    await handLoop(obs, { steps: 16, flushEvery: 4 });
    await obs.close();
    const { data } = await gql<{ session: { steps: { stepIndex: number; layerHealth: unknown }[] } }>(s.url, 'query { session(id: 1) { steps { stepIndex layerHealth } } }');
    // Measured at steps 0 and 8: the flushes after them (steps 3 and 11) carry it, the others not.
    expect(data!.session.steps.map((x) => x.layerHealth !== null)).toEqual([true, false, true, false]);
  });

  it('measures per-layer health on a probe batch, and the server names the dead layer', async () => {
    const s = await serverWithProject();
    const obs = await Observer.create({ projectId: 1, runName: 'dead', config: { serverUrl: s.url, trackConsoleLogs: false } });
    const model = tf.sequential();
    model.add(tf.layers.dense({ inputShape: [784], units: 32, activation: 'relu', name: 'hidden', biasInitializer: tf.initializers.constant({ value: -50 }) }));
    model.add(tf.layers.dense({ units: 10, activation: 'softmax', name: 'out' }));
    model.compile({ optimizer: tf.train.sgd(0.05), loss: 'categoricalCrossentropy' });
    const probe = loadMnist(3, 100);
    obs.registerModel(model, { probe: { x: probe.xs, y: probe.ys } });
    const { xs, ys } = loadMnist(20);
    await model.fit(xs, ys, { epochs: 3, batchSize: 50, callbacks: obs.callbacks() });
    await obs.close();
    const { data } = await gql<{ session: { steps: { layerHealth: any; profiler: any; sustainability: any; carbonEmissions: any }[]; diagnostics: { issues: { code: string; layerId: string | null }[] }[] } }>(
      s.url,
      'query { session(id: 1) { steps { layerHealth profiler sustainability carbonEmissions } diagnostics(withIssuesOnly: true) { issues { code layerId } } } }',
    );
    // profileAtStep 0: the first flush carries a profile of the probe batch (forward/backward split, per layer).
    expect(data!.session.steps[0]!.profiler).toMatchObject({ forward_ms: expect.any(Number), backward_ms: expect.any(Number), measured_on: 'probe batch, no weight update' });
    expect(data!.session.steps[0]!.profiler.per_layer.map((l: { layer: string }) => l.layer)).toEqual(['hidden', 'out']);
    expect(data!.session.steps[1]!.profiler).toBeNull();
    expect(data!.session.steps[1]!.sustainability.cumulative_compute.total_samples).toBe(400);
    expect(data!.session.steps[1]!.carbonEmissions).toMatchObject({ country_iso: 'IRL', mode: 'offline' });
    expect(data!.session.steps[0]!.layerHealth.layers.hidden).toMatchObject({ is_dead: true, dead_fraction: 1, has_vanishing_gradients: true });
    expect(data!.session.steps[0]!.layerHealth.layers.out.is_dead).toBe(false);
    const issues = data!.session.diagnostics.flatMap((r) => r.issues);
    expect(issues).toContainEqual({ code: 'layer.dead', layerId: 'hidden' });
  });

  it('never waits for the device in step(): no synchronous readback, one asynchronous read of the losses already on the device for the NaN watch; no tensor leaks', async () => {
    const s = await serverWithProject();
    const watched = await Observer.create({ projectId: 1, runName: 'watched', config: { serverUrl: s.url, trackConsoleLogs: false } });
    const { calls, restore } = spyReadbacks();
    try {
      const { due, counts } = await trainTiny(watched, true);
      expect(due).toEqual(Array(20).fill(false));
      expect(calls).toEqual(Array(20).fill('data'));
      // Each watch's handle on the loss buffer is released once read.
      expect(new Set(counts).size).toBe(1);
    } finally {
      restore();
      await watched.close();
    }
  });

  it('keeps one NaN-watch read out at a time when reads are slow (WebGL), and still catches a NaN between reads', async () => {
    const s = await serverWithProject();
    const obs = await Observer.create({ projectId: 1, runName: 'slow-reads', config: { serverUrl: s.url, trackConsoleLogs: false } });
    const proto = tf.Tensor.prototype as unknown as { data: () => Promise<unknown> };
    const data = proto.data;
    const held: (() => void)[] = [];
    // Reads resolve only when released, like a readback that takes several steps.
    proto.data = function (this: tf.Tensor) {
      const result = data.call(this);
      return new Promise((resolve) => held.push(() => resolve(result)));
    };
    const release = async () => {
      for (const r of held.splice(0)) r();
      await new Promise((r) => setImmediate(r));
    };
    try {
      const w = tf.variable(tf.scalar(1));
      const lossAt = (step: number) => tf.tidy(() => (step === 5 ? w.mul(Number.NaN) : w.mul(2)) as tf.Scalar);
      for (let step = 0; step < 8; step++) {
        const loss = lossAt(step);
        obs.step(step, loss, { batchSize: 1 });
        loss.dispose();
      }
      // Eight steps, one read out (of the buffer as it was at step 0).
      expect(held).toHaveLength(1);
      await release();
      expect(obs.flushDue).toBe(false);
      // The next step reads the buffer again: steps 0-8, NaN at 5 included.
      const loss = lossAt(8);
      obs.step(8, loss, { batchSize: 1 });
      loss.dispose();
      expect(held).toHaveLength(1);
      await release();
      expect(obs.flushDue).toBe(true);
      w.dispose();
    } finally {
      proto.data = data;
      await obs.close();
    }
  });

  it('with the NaN watch off, never reads a tensor back in step(), and leaks no tensor', async () => {
    const s = await serverWithProject();
    const obs = await Observer.create({ projectId: 1, runName: 'hot', config: { serverUrl: s.url, trackConsoleLogs: false, flushOnNonFinite: false } });
    const { calls: readbacks, restore } = spyReadbacks();
    try {
      const { counts } = await trainTiny(obs, false);
      expect(readbacks).toEqual([]);
      expect(new Set(counts).size).toBe(1);
      const before = tf.memory().numTensors;
      await obs.flush();
      expect(readbacks).toEqual(['data']);
      expect(tf.memory().numTensors).toBe(before - 1);
    } finally {
      restore();
      await obs.close();
    }
  });

  it('closes with `await using` like Python\'s `with`, restoring the console, and exports a report', async () => {
    const s = await serverWithProject();
    const original = console.info;
    const dir = mkdtempSync(path.join(tmpdir(), 'observer-report-'));
    {
      await using obs = await Observer.create({ projectId: 1, runName: 'scoped', config: { serverUrl: s.url } });
      expect(console.info).not.toBe(original);
      obs.step(0, 2.5, { batchSize: 4 });
      await obs.flush();
      const file = await obs.export(path.join(dir, 'report.json'));
      const report = JSON.parse(readFileSync(file, 'utf8'));
      expect(report).toMatchObject({ run_id: '1_scoped', session_id: 1, steps: [{ step_index: 0, loss: { train_mean: 2.5 } }] });
    }
    expect(console.info).toBe(original);
  });

  it('keeps training while the server is down and delivers every step once when it comes up', async () => {
    const probe = await startTestServer();
    const port = probe.port;
    const databaseUrl = `file:${path.join(mkdtempSync(path.join(tmpdir(), 'observer-down-')), 'app.db')}`;
    await probe.close();
    // Time on the observer's clock passes only as the test moves it, a second at each poll: the
    // 3 s create waits for a session and the reconnect backoff take no real time.
    const clock = new ManualClock();
    const tick = () => clock.advance(1000);
    let created: Observer | undefined;
    void Observer.create({ projectId: 1, runName: 'offline', clock, config: { serverUrl: `http://127.0.0.1:${port}`, trackConsoleLogs: false } }).then((o) => (created = o));
    await waitUntil(() => (tick(), created !== undefined), 'create gives up waiting for the session');
    const obs = created!;
    expect(obs.sessionId).toBeNull();
    await handLoop(obs, { steps: 12, flushEvery: 2 });
    expect(obs.unsent).toBeGreaterThanOrEqual(7);
    const s = await startTestServer({ port, databaseUrl });
    await post(`${s.url}/projects`, { name: 'late' });
    await waitUntil(() => (tick(), obs.unsent === 0), 'the outbox drains after the server comes up', 15_000);
    await obs.close();
    const { data } = await gql<SessionData>(s.url, SESSION, { id: 1 });
    expect(data!.session.steps.map((x) => x.stepIndex)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(data!.session.model).not.toBeNull();
  });
});

describe("the Observer's own messages", () => {
  it("print to the console at the default logLevel, and not at 'error'", async () => {
    const s = await startTestServer({ auth: 'required', adminToken: 'admin-secret' });
    const printed: string[] = [];
    const warn = vi.spyOn(console, 'warn').mockImplementation((m: unknown) => void printed.push(String(m)));
    try {
      // A key the server refuses: the observer says so (4403).
      const create = (logLevel: 'info' | 'error') => Observer.create({ projectId: 1, runName: logLevel, config: { serverUrl: s.url, apiKey: 'obs_wrong', trackConsoleLogs: false, logLevel } });
      // Quiet first: a closed observer's last messages (its session never created) come after close.
      const quiet = await create('error');
      await new Promise((r) => setTimeout(r, 2000));
      await quiet.close();
      await new Promise((r) => setTimeout(r, 500));
      expect(printed.filter((m) => m.startsWith('[observer]'))).toEqual([]);
      const loud = await create('info');
      await waitUntil(() => printed.some((m) => m.includes('refused the API key')), 'the refusal is printed at the default level');
      await loud.close();
    } finally {
      warn.mockRestore();
    }
  });
});
