/**
 * The cluster launcher (`scripts/cluster-lib.ts`, `npm run cluster`): two replica processes on
 * a fresh PostgreSQL database and the machine's Redis behind a real HAProxy, round-robin and
 * without stickiness. Needs PostgreSQL, Redis and haproxy, and fails (never skips) without them.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import WebSocket from 'ws';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type Cluster } from '../scripts/cluster-lib.ts';
import { waitForRedisSubscription } from '../server/lib/event-bus.ts';
import { freshPostgresDatabase } from './helpers/postgres.ts';
import { post, waitUntil } from './helpers/server.ts';

const REDIS_URL = process.env.OBSERVER_TEST_REDIS ?? 'redis://127.0.0.1:6379';
/** Long enough for HAProxy (checks 1 s apart, 250 ms once failing, out after 2 failures) to see the drain. */
const DRAIN_MS = 3000;

async function requireRedis(): Promise<void> {
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 3000 });
  redis.on('error', () => {});
  try {
    await redis.connect();
    await redis.ping();
  } catch (err) {
    throw new Error(`Redis is needed for this test and does not answer at ${REDIS_URL} (${(err as Error).message}). Start one (apt-get install redis-server) or point OBSERVER_TEST_REDIS at one.`);
  } finally {
    redis.disconnect();
  }
}

/** A graphql-ws connection by hand (graphql-transport-ws), so the test sees which replica took the upgrade and the exact close code. */
async function openGraphqlWs(url: string) {
  const socket = new WebSocket(url, 'graphql-transport-ws');
  const messages: { id?: string; type: string; payload?: { data?: Record<string, unknown> } }[] = [];
  const state: { servedBy?: string; closeCode?: number } = {};
  socket.on('upgrade', (res) => (state.servedBy = String(res.headers['x-served-by'])));
  socket.on('message', (data) => messages.push(JSON.parse(String(data))));
  socket.on('close', (code) => (state.closeCode = code));
  socket.on('error', () => {});
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('close', (code) => reject(new Error(`WebSocket to ${url} closed with ${code} before opening`)));
  });
  socket.send(JSON.stringify({ type: 'connection_init' }));
  await waitUntil(() => messages.some((m) => m.type === 'connection_ack'), 'the server acknowledges the connection');
  return {
    socket,
    state,
    messages,
    subscribe: (id: string, query: string) => socket.send(JSON.stringify({ id, type: 'subscribe', payload: { query } })),
    events: (id: string) => messages.filter((m) => m.id === id && m.type === 'next').map((m) => m.payload?.data ?? {}),
  };
}

async function health(url: string): Promise<{ status: number; body: { status: string; replica?: string } }> {
  const res = await fetch(`${url}/health`);
  return { status: res.status, body: (await res.json()) as { status: string; replica?: string } };
}

describe('npm run cluster: replicas behind HAProxy on one PostgreSQL and one Redis', () => {
  let cluster: Cluster;
  let drop = async () => {};
  const sockets: WebSocket[] = [];
  const output: string[] = [];

  beforeAll(async () => {
    await requireRedis();
    const db = await freshPostgresDatabase();
    drop = db.drop;
    const redisPrefix = `observer-test-${randomBytes(4).toString('hex')}:`;
    cluster = await startCluster({
      replicas: 2,
      databaseUrl: db.url,
      redisUrl: REDIS_URL,
      env: { REDIS_PREFIX: redisPrefix, SHUTDOWN_DRAIN_MS: String(DRAIN_MS) },
      log: (line) => output.push(line),
    });
    await waitForRedisSubscription(REDIS_URL, redisPrefix, 2, 10_000);
  }, 120_000);

  afterEach(({ task }) => {
    // The replicas' and HAProxy's output explains most failures.
    if (task.result?.state === 'fail') console.error(output.slice(-60).join('\n'));
  });

  afterAll(async () => {
    for (const s of sockets) s.terminate();
    await cluster?.stop();
    await drop();
  }, 30_000);

  it('sends consecutive requests to every replica in turn (round-robin, no stickiness)', async () => {
    const seen: string[] = [];
    for (let i = 0; i < 6; i++) {
      const { status, body } = await health(cluster.url);
      expect(status).toBe(200);
      seen.push(body.replica!);
    }
    expect(new Set(seen)).toEqual(new Set(['0', '1']));
  });

  it('stores through the balancer what either replica then reads', async () => {
    const project = JSON.parse((await post(`${cluster.url}/projects`, { name: 'cluster' })).text) as { id: number };
    const res = await fetch(`${cluster.url}/sessions/project/${project.id}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ run_name: 'through the balancer' }) });
    expect(res.status).toBe(200);
    const session = (await res.json()) as { id: number; project_id: number };
    expect(session.project_id).toBe(project.id);
    const servedBy = res.headers.get('x-served-by');
    const other = cluster.replicas.find((r) => `replica${r.index}` !== servedBy)!;
    const read = await fetch(`${other.url}/sessions/${session.id}`);
    expect(read.status).toBe(200);
    expect(await read.json()).toMatchObject({ id: session.id, run_name: 'through the balancer', status: 'running' });
  });

  it('delivers sessionCreated to a subscription made through the balancer when another replica creates the session', async () => {
    const project = JSON.parse((await post(`${cluster.url}/projects`, { name: 'live' })).text) as { id: number };
    const ws = await openGraphqlWs(`${cluster.url.replace(/^http/, 'ws')}/graphql`);
    sockets.push(ws.socket);
    expect(ws.state.servedBy).toMatch(/^replica[01]$/);
    ws.subscribe('created', 'subscription { sessionCreated { id runName } }');
    const other = cluster.replicas.find((r) => `replica${r.index}` !== ws.state.servedBy)!;
    // graphql-ws does not acknowledge a subscribe: create sessions until one is heard, each from the other replica.
    const created: number[] = [];
    await waitUntil(
      async () => {
        if (ws.events('created').length) return true;
        const { text } = await post(`${other.url}/sessions/project/${project.id}`, { run_name: `from replica ${other.index}` });
        created.push((JSON.parse(text) as { id: number }).id);
        await waitUntil(() => ws.events('created').length > 0, 'the event', 500).catch(() => {});
        return ws.events('created').length > 0;
      },
      'the subscriber hears a session created on the other replica',
      10_000,
    );
    const event = ws.events('created')[0] as { sessionCreated: { id: number; runName: string } };
    expect(created).toContain(event.sessionCreated.id);
    expect(event.sessionCreated.runName).toBe(`from replica ${other.index}`);
  });

  it('drains a replica on SIGTERM: /health 503, out of rotation, no failed request, its WebSockets closed with 1001', async () => {
    const [survivor, victim] = cluster.replicas as [Cluster['replicas'][number], Cluster['replicas'][number]];
    const project = JSON.parse((await post(`${cluster.url}/projects`, { name: 'drain' })).text) as { id: number };
    const session = JSON.parse((await post(`${cluster.url}/sessions/project/${project.id}`, { run_name: 'drain' })).text) as { id: number };
    const ws = await openGraphqlWs(`${victim.url.replace(/^http/, 'ws')}/graphql`);
    sockets.push(ws.socket);

    // Reads and writes through the balancer, one after another, for the whole drain and after it.
    const statuses: number[] = [];
    let load = true;
    const traffic = (async () => {
      for (let i = 0; load; i++) {
        statuses.push((await fetch(`${cluster.url}/sessions/${session.id}`)).status);
        statuses.push((await post(`${cluster.url}/sessions/${session.id}/log`, { level: 'INFO', msg: `line ${i}` })).status);
      }
    })();
    await waitUntil(() => statuses.length >= 10, 'traffic flows through the balancer');

    let exited = false;
    const killed = victim.kill('SIGTERM').then(() => (exited = true));
    await waitUntil(async () => (await health(victim.url).catch(() => null))?.body.status === 'draining', 'the victim reports draining');
    expect(await health(victim.url)).toMatchObject({ status: 503, body: { status: 'draining', replica: String(victim.index) } });
    // HAProxy takes it out while it still drains: only the survivor answers through the balancer.
    let inARow = 0;
    await waitUntil(
      async () => {
        const { body } = await health(cluster.url);
        inARow = body.replica === String(survivor.index) && body.status === 'ok' ? inARow + 1 : 0;
        return inARow >= 6;
      },
      'the balancer stops sending requests to the draining replica',
      DRAIN_MS,
    );
    expect(exited).toBe(false);

    await killed;
    await waitUntil(() => ws.state.closeCode !== undefined, 'the victim closes its WebSockets');
    expect(ws.state.closeCode).toBe(1001);
    const atExit = statuses.length;
    await waitUntil(() => statuses.length >= atExit + 20, 'traffic keeps flowing after the victim exited');
    load = false;
    await traffic;
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
    expect(victim.pid).toBeUndefined();
  });
});
