/**
 * Training through three replicas behind HAProxy (round-robin, no stickiness) on one
 * PostgreSQL database and one Redis: the seed's Python client, whose steps, status polls and
 * actions land on different replicas, and the tfjs Observer, whose replica is killed with
 * `kill -9` in the middle of its run. Needs PostgreSQL, Redis and haproxy; fails without them.
 */
import { randomBytes } from 'node:crypto';
import * as tf from '@tensorflow/tfjs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Observer } from '../observer/index.ts';
import { startCluster, type Cluster } from '../scripts/cluster-lib.ts';
import { waitForRedisSubscription } from '../server/lib/event-bus.ts';
import { loadMnist, mlp } from './helpers/mnist.ts';
import { freshPostgresDatabase } from './helpers/postgres.ts';
import { runSeedClient } from './helpers/seed-client.ts';
import { post, waitUntil } from './helpers/server.ts';

const REDIS_URL = process.env.OBSERVER_TEST_REDIS ?? 'redis://127.0.0.1:6379';

describe('training through three replicas behind HAProxy', () => {
  let cluster: Cluster;
  let drop = async () => {};
  const output: string[] = [];

  beforeAll(async () => {
    await tf.setBackend('cpu');
    const db = await freshPostgresDatabase();
    drop = db.drop;
    const redisPrefix = `observer-test-${randomBytes(4).toString('hex')}:`;
    cluster = await startCluster({
      replicas: 3,
      databaseUrl: db.url,
      redisUrl: REDIS_URL,
      // A judge that dies is replaced within about 2 s (the defaults are 10 s and 5 s).
      env: { REDIS_PREFIX: redisPrefix, SHUTDOWN_DRAIN_MS: '0', JUDGE_LEASE_MS: '2000', JUDGE_SWEEP_MS: '300' },
      log: (line) => output.push(line),
    });
    await waitForRedisSubscription(REDIS_URL, redisPrefix, 3, 10_000);
    await post(`${cluster.url}/projects`, { name: 'cluster' });
  }, 120_000);

  afterEach(({ task }) => {
    if (task.result?.state === 'fail') console.error(output.slice(-80).join('\n'));
  });

  afterAll(async () => {
    await cluster?.stop();
    await drop();
  }, 30_000);

  /** The replica that holds a WebSocket (there is one client in this test). @throws when none or several do */
  const holderOfTheOnlySocket = async () => {
    // A replica that was killed holds none.
    const counts = await Promise.all(
      cluster.replicas.map(async (r) => ((await (await fetch(`${r.url}/health`).catch(() => null))?.json()) as { websockets: number } | undefined)?.websockets ?? 0),
    );
    const holders = cluster.replicas.filter((_, i) => counts[i]! > 0);
    if (holders.length !== 1 || counts.reduce((a, b) => a + b, 0) !== 1) throw new Error(`expected one WebSocket on one replica, found ${counts.join(', ')}`);
    return holders[0]!;
  };

  const sessionRow = async (id: number) => (await fetch(`${cluster.url}/sessions/${id}`)).json() as Promise<{ status: string }>;

  it("runs the seed's Python client: it pauses on its NaN loss whichever replica judged it, and resumes by an action sent to another", async () => {
    const { events, stderr, exit } = runSeedClient(cluster.url, 1, [3, 12]);
    const session = async () => {
      const list = (await (await fetch(`${cluster.url}/projects/1/sessions`)).json()) as { id: number }[];
      return list[0]!.id;
    };

    await waitUntil(() => events.some((e) => e.event === 'pending'), 'the client sees pending after its NaN step', 20_000);
    const id = await session();
    await post(`${cluster.replicas[2]!.url}/sessions/${id}/action`, { action: 'resume' });
    await waitUntil(() => events.some((e) => e.event === 'step' && e.step === 10), 'training continues after the resume', 20_000);
    await waitUntil(() => events.some((e) => e.event === 'pending' && e.step === 12), 'the second NaN pauses it', 20_000);
    await post(`${cluster.replicas[1]!.url}/sessions/${id}/action`, { action: 'stop' });
    expect(await exit).toBe(0);
    expect(stderr()).toBe('');
    expect(events.at(-1)).toMatchObject({ event: 'stopped', status: 'stopped' });
    expect((await sessionRow(id)).status).toBe('stopped');
  }, 90_000);

  it('survives kill -9 of a replica mid-run: the Observer reconnects through the balancer, finishes, and every step is stored exactly once', async () => {
    const STEPS = 60;
    const { xs, ys } = loadMnist(10);
    const model = mlp(16);
    const obs = await Observer.create({ projectId: 1, runName: 'kill-9', config: { serverUrl: cluster.url, trackConsoleLogs: false, verdictTimeout: 30 } });
    obs.registerModel(model);
    const optimizer = tf.train.sgd(0.05);
    let victim: Cluster['replicas'][number] | undefined;
    for (let step = 0; step < STEPS; step++) {
      const loss = optimizer.minimize(() => tf.metrics.categoricalCrossentropy(ys, model.apply(xs) as tf.Tensor).mean() as tf.Scalar, true)!;
      obs.step(step, loss, { batchSize: 100 });
      tf.dispose(loss);
      await obs.flush();
      await obs.holdIfPaused();
      if (step === 20) {
        // The replica holding the Observer's one WebSocket (its steps, its status subscription).
        victim = await holderOfTheOnlySocket();
        await victim.kill('SIGKILL');
      }
    }
    // It reconnected through the balancer to another replica and went on there.
    await waitUntil(() => holderOfTheOnlySocket().then(() => true, () => false), 'the Observer has reconnected', 20_000);
    expect((await holderOfTheOnlySocket()).index).not.toBe(victim!.index);
    const id = obs.sessionId!;
    await obs.decide('complete');
    await obs.close();
    const steps = ((await (await fetch(`${cluster.url}/sessions/${id}/steps?limit=1000`)).json()) as { items: { step_index: number }[] }).items;
    const indices = steps.map((s) => s.step_index).sort((a, b) => a - b);
    expect(indices).toEqual(Array.from({ length: STEPS }, (_, i) => i));
    await waitUntil(async () => (await sessionRow(id)).status === 'completed', 'the session ends completed', 20_000);
    // The killed replica comes back and serves the same data.
    await victim!.restart();
    const again = ((await (await fetch(`${victim!.url}/sessions/${id}/steps?limit=1000`)).json()) as { items: unknown[] }).items;
    expect(again).toHaveLength(STEPS);
  }, 180_000);
});
