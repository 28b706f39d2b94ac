import * as tf from '@tensorflow/tfjs';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import { ManualClock, Observer, type PendingPrompt } from '../observer/index.ts';
import { Connection, type StatusEvent } from '../observer/transport/connection.ts';
import { utf8Bytes } from '../observer/transport/message-size.ts';
import { loadMnist, mlp } from './helpers/mnist.ts';
import { disposeAll, gql, post, startTestServer, tempDir, waitUntil } from './helpers/server.ts';

/** The server's message limit in these tests: small, so a few steps or one long line exceed it. */
const LIMIT = 16 * 1024;

/** What this file opens besides the shared helpers' leftovers, undone after each test. */
const undo: (() => Promise<void> | void)[] = [];

beforeAll(async () => {
  await tf.setBackend('cpu');
});
afterEach(async () => {
  while (undo.length) await undo.pop()!();
  await disposeAll();
});

async function serverWithProject(opts: { port?: number; databaseUrl?: string } = {}) {
  const s = await startTestServer({ maxBodyBytes: LIMIT, ...opts });
  await post(`${s.url}/projects`, { name: 'transport' });
  return s;
}

/** Every graphql-ws `subscribe` message any socket in this process sends: its bytes on the wire and its query. */
function spySubscribes(): { bytes: number; query: string }[] {
  const proto = WebSocket.prototype as unknown as { send: (data: unknown, ...rest: unknown[]) => void };
  const send = proto.send;
  const seen: { bytes: number; query: string }[] = [];
  proto.send = function (this: WebSocket, data: unknown, ...rest: unknown[]) {
    if (typeof data === 'string') {
      const m = JSON.parse(data) as { type: string; payload?: { query: string } };
      if (m.type === 'subscribe') seen.push({ bytes: Buffer.byteLength(data), query: m.payload!.query });
    }
    return send.call(this, data, ...rest);
  };
  undo.push(() => void (proto.send = send));
  return seen;
}

/** Keeps console.log's pass-through quiet while an observer captures it (a long line would flood the test output). */
function quietConsoleLog(): void {
  const spy = vi.spyOn(console, 'log').mockImplementation(() => {});
  undo.push(() => spy.mockRestore());
}

type Session = { session: { status: string; steps: { stepIndex: number; loss: { numBatches: number } | null; profiler: unknown; layerHealth: unknown; record: any }[]; logs: { msg: string; level: string }[] } };
const SESSION = 'query { session(id: 1) { status steps { stepIndex loss { numBatches } profiler layerHealth record } logs { msg level } } }';
const session = async (url: string) => (await gql<Session>(url, SESSION)).data!.session;

/** A hand-written loop on MNIST: `obs.step` each step, a flush every `flushEvery`, `onStep` after it. */
async function train(obs: Observer, opts: { steps: number; flushEvery: number; model?: tf.Sequential; nanAt?: number; onStep?: (step: number) => void }) {
  const { xs, ys } = loadMnist(5);
  const model = opts.model ?? mlp(16);
  obs.registerModel(model);
  const optimizer = tf.train.sgd(0.1);
  for (let step = 0; step < opts.steps; step++) {
    opts.onStep?.(step);
    const loss = optimizer.minimize(() => tf.metrics.categoricalCrossentropy(ys, model.apply(xs) as tf.Tensor).mean() as tf.Scalar, true)!;
    const reported = step === opts.nanAt ? loss.mul(Number.NaN) : loss;
    obs.step(step, reported, { batchSize: 50 });
    tf.dispose([loss, reported]);
    if ((step + 1) % opts.flushEvery === 0) await obs.flush();
    await obs.holdIfPaused();
  }
}

describe('Observer transport under a small server message limit', () => {
  it('delivers a backlog of many steps completely, in several messages each under the byte budget', async () => {
    const probe = await startTestServer();
    const { port } = probe;
    await probe.close();
    const databaseUrl = `file:${tempDir()}/app.db`;
    const budget = 12 * 1024;
    // The observer's clock moves a second at each poll: create's 3 s wait for the session and the
    // reconnect backoff take no real time.
    const clock = new ManualClock();
    const tick = () => clock.advance(1000);
    let created: Observer | undefined;
    void Observer.create({
      projectId: 1,
      runName: 'backlog',
      clock,
      config: { serverUrl: `http://127.0.0.1:${port}`, trackConsoleLogs: false, trackProfiler: false, maxMessageBytes: budget },
    }).then((o) => (created = o));
    await waitUntil(() => (tick(), created !== undefined), 'create gives up waiting for the session');
    const obs = created!;
    undo.push(() => obs.close({ drainSeconds: 0 }));
    await train(obs, { steps: 60, flushEvery: 2 });
    expect(obs.unsent).toBeGreaterThanOrEqual(31);
    const sent = spySubscribes();
    const s = await serverWithProject({ port, databaseUrl });
    await waitUntil(() => (tick(), obs.unsent === 0), 'the backlog drains', 20_000);
    await obs.close();
    expect((await session(s.url)).steps.map((x) => x.stepIndex)).toEqual(Array.from({ length: 30 }, (_, i) => i));
    const stepMessages = sent.filter((m) => m.query.includes('recordSteps'));
    expect(stepMessages.length).toBeGreaterThanOrEqual(4);
    expect(Math.max(...sent.map((m) => m.bytes))).toBeLessThanOrEqual(budget);
    expect(obs.transport).toMatchObject({ tooBigCloses: 0, maxMessageBytes: budget, trimmed: { steps: 0, logs: 0 }, rejected: { steps: 0, logs: 0 } });
  });

  it('cuts one huge log line to fit, says so in a warning it sends, and training goes on', async () => {
    const s = await serverWithProject();
    quietConsoleLog();
    const budget = 12 * 1024;
    const obs = await Observer.create({ projectId: 1, runName: 'long-line', config: { serverUrl: s.url, maxMessageBytes: budget } });
    undo.push(() => obs.close({ drainSeconds: 0 }));
    // 7000 three-byte characters: 21 000 bytes, more than the whole server limit.
    await train(obs, { steps: 6, flushEvery: 2, onStep: (step) => step === 1 && console.log('€'.repeat(7000)) });
    await obs.close();
    const { steps, logs } = await session(s.url);
    expect(steps.map((x) => x.stepIndex)).toEqual([0, 1, 2]);
    const cut = logs.find((l) => l.msg.startsWith('€'))!;
    expect(cut.msg).toMatch(/… \[\d+ of 7000 characters cut by the observer\]$/);
    expect(utf8Bytes(cut.msg)).toBeLessThan(budget);
    expect(logs).toContainEqual({ level: 'WARNING', msg: `1 log line(s) cut to fit the ${budget}-byte message limit (the longest had 7000 characters)` });
    expect(obs.transport).toMatchObject({ tooBigCloses: 0, trimmed: { logs: 1 } });
  });

  it('sends a step too big for any message without its heaviest channels, drops one that cannot fit at all, and training goes on', async () => {
    const s = await serverWithProject();
    const budget = 8 * 1024;
    const obs = await Observer.create({ projectId: 1, runName: 'big-step', config: { serverUrl: s.url, trackConsoleLogs: false, maxMessageBytes: budget } });
    undo.push(() => obs.close({ drainSeconds: 0 }));
    // Forty layers: the profile and layer health of one step far exceed the budget.
    const model = tf.sequential();
    model.add(tf.layers.dense({ inputShape: [784], units: 8, activation: 'relu' }));
    for (let i = 0; i < 38; i++) model.add(tf.layers.dense({ units: 8, activation: 'relu' }));
    model.add(tf.layers.dense({ units: 10, activation: 'softmax' }));
    model.compile({ optimizer: tf.train.sgd(0.05), loss: 'categoricalCrossentropy' });
    const probe = loadMnist(1, 100);
    obs.registerModel(model, { probe: { x: probe.xs, y: probe.ys } });
    const { xs, ys } = loadMnist(5);
    await model.fit(xs, ys, { epochs: 1, batchSize: 25, callbacks: obs.callbacks({ flushEvery: 1 }) });
    // One more flush whose validation metrics alone exceed the budget: it cannot fit in any form.
    obs.step(2, 1.0, { batchSize: 1 });
    await obs.flush({ valMetrics: Object.fromEntries(Array.from({ length: 600 }, (_, i) => [`val_metric_${i}`, i])) });
    obs.step(3, 0.9, { batchSize: 1 });
    await obs.flush();
    await obs.close();
    const { steps, logs } = await session(s.url);
    expect(steps.map((x) => x.stepIndex)).toEqual([0, 1, 3]);
    const first = steps[0]!;
    expect(first.loss!.numBatches).toBe(1);
    expect(first.profiler).toBeNull();
    expect(first.record.observer.omitted_to_fit.channels).toContain('profiler');
    expect(first.record.observer.omitted_to_fit.message_limit_bytes).toBe(budget);
    expect(steps[2]!.record.observer).toMatchObject({ rejected: { steps: 1, logs: 0 } });
    const warnings = logs.filter((l) => l.level === 'WARNING').map((l) => l.msg);
    // Which channels go depends on their sizes (forty layers' health may go too); the profile always does.
    expect(warnings).toContainEqual(expect.stringMatching(/^step 0 sent without (\w+, )*profiler(, \w+)* to fit the 8192-byte message limit$/));
    expect(warnings).toContain('step 2 dropped: too big for the 8192-byte message limit even without optional channels');
    // The dropped flush did not wait for a verdict that could never come.
    expect(warnings.filter((w) => w.startsWith('no verdict'))).toEqual([]);
    // Every step of this model lost its layer health at least: each is counted once.
    const reduced = steps.filter((x) => x.record.observer?.omitted_to_fit).length;
    expect(reduced).toBe(3);
    expect(steps.every((x) => x.layerHealth === null)).toBe(true);
    expect(obs.transport).toMatchObject({ trimmed: { steps: reduced }, rejected: { steps: 1 } });
    expect(obs.report()).toMatchObject({ rejected: { steps: 1 }, trimmed: { steps: reduced } });
  });

  it('after the server closes its socket over a message too big, halves its budget, still hears the pause of a NaN loss and finishes', async () => {
    const s = await serverWithProject();
    quietConsoleLog();
    const prompts: PendingPrompt[] = [];
    const obs = await Observer.create({
      projectId: 1,
      runName: 'too-big',
      // The default budget (1 MiB) is far above this server's 16 KiB.
      config: { serverUrl: s.url },
      onPending: (p) => {
        prompts.push(p);
        void p.resume();
      },
    });
    undo.push(() => obs.close({ drainSeconds: 0 }));
    await train(obs, { steps: 24, flushEvery: 4, nanAt: 13, onStep: (step) => step === 2 && console.log('€'.repeat(7000)) });
    await obs.close();
    expect(prompts).toHaveLength(1);
    expect(prompts[0]!.issues[0]).toMatchObject({ severity: 'critical', title: 'Loss is NaN' });
    const t = obs.transport;
    expect(t.tooBigCloses).toBeGreaterThanOrEqual(1);
    expect(t.maxMessageBytes).toBeLessThanOrEqual(LIMIT);
    // The status subscription died with each closed socket and was subscribed again.
    expect(t.statusErrors).toBeGreaterThanOrEqual(1);
    const { steps, logs, status } = await session(s.url);
    expect(steps.map((x) => x.stepIndex)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(status).toBe('running');
    expect(logs.some((l) => l.msg.startsWith('€') && l.msg.includes('characters cut by the observer'))).toBe(true);
    expect(logs.map((l) => l.msg)).toContainEqual(expect.stringContaining('message bigger than it takes (1009)'));
  });

  it('subscribes to status again after the subscription errors, and then hears the session', async () => {
    const s = await startTestServer({ maxBodyBytes: LIMIT });
    // Re-subscribing waits its backoff on this clock, moved a second at each poll below.
    const clock = new ManualClock();
    const connection = new Connection(s.wsUrl, { maxMessageBytes: 4096, clock });
    await connection.open();
    undo.push(() => connection.close());
    const events: StatusEvent[] = [];
    const errors: Error[] = [];
    const stop = connection.watchStatus(1, (e) => events.push(e), (err) => errors.push(err));
    undo.push(stop);
    // No session 1 yet: the subscription fails.
    await waitUntil(() => errors.length >= 1, 'the status subscription errors');
    expect(events).toEqual([]);
    await post(`${s.url}/projects`, { name: 'late' });
    await gql(s.url, 'mutation { createSession(projectId: 1) { id } }');
    await waitUntil(() => (clock.advance(1000), events.length >= 1), 'the subscription is made again and delivers the status');
    expect(events[0]!.status).toBe('running');
    expect(connection.health.statusErrors).toBe(errors.length);
    expect(connection.health.lastError).toContain('status updates');
  });
});
