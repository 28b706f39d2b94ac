import { createHash } from 'node:crypto';
import { request } from 'node:http';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Observer } from '../observer/index.ts';
import WebSocket from 'ws';
import { startServer } from '../server/app.ts';
import { waitForRedisSubscription } from '../server/lib/event-bus.ts';
import { freshPostgresDatabase } from './helpers/postgres.ts';
import { ADMIN_TOKEN, bearer, createKey, gqlAs, revokeKey, subscribeOnce } from './helpers/auth.ts';
import { seedSession } from './helpers/payloads.ts';
import { defer, disposeAll, post, startTestServer, TEST_DB, testDatabaseUrl, waitUntil } from './helpers/server.ts';

afterEach(disposeAll);

const STATUS = 'subscription($s: Int!) { sessionStatus(sessionId: $s) { status } }';

/** A server that requires keys, with project 1 and its session 1. */
async function securedServer(opts: Parameters<typeof startTestServer>[0] = {}) {
  const s = await startTestServer({ auth: 'required', adminToken: ADMIN_TOKEN, ...opts });
  await post(`${s.url}/projects`, { name: 'A' }, bearer(ADMIN_TOKEN));
  await post(`${s.url}/sessions/project/1`, seedSession('a'), bearer(ADMIN_TOKEN));
  return s;
}

/** Opens a graphql-ws subscription and resolves with its live socket's close code once it closes. */
function liveSubscription(wsUrl: string, key: string) {
  const socket = new WebSocket(wsUrl, 'graphql-transport-ws');
  defer(() => socket.close());
  const messages: { type: string }[] = [];
  const closed = new Promise<number>((resolve) => socket.on('close', (code) => resolve(code)));
  socket.on('message', (m) => {
    const msg = JSON.parse(String(m)) as { type: string };
    messages.push(msg);
    if (msg.type === 'connection_ack') socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: STATUS, variables: { s: 1 } } }));
  });
  socket.on('open', () => socket.send(JSON.stringify({ type: 'connection_init', payload: { apiKey: key } })));
  return { messages, closed };
}

describe('API keys', () => {
  it('are stored as a SHA-256 hash only: no column holds the secret', async () => {
    const s = await securedServer();
    const key = await createKey(s.url, 1, 'write');
    const rows = await s.db.apiKey.findMany();
    expect(rows).toHaveLength(1);
    expect(JSON.stringify(rows)).not.toContain(key.secret);
    // The random part (base64url, so it may itself hold '_' or '-') is everything after the prefix.
    const randomPart = key.secret.slice(rows[0]!.prefix.length + 1);
    expect(randomPart).toHaveLength(43);
    expect(JSON.stringify(rows)).not.toContain(randomPart);
    expect(rows[0]).toMatchObject({ projectId: 1, scope: 'write', hash: createHash('sha256').update(key.secret).digest('hex'), revokedAt: null });
    expect(key.secret.startsWith(`${rows[0]!.prefix}_`)).toBe(true);
    // Lists show the prefix, never the secret.
    const listed = await gqlAs(s.url, ADMIN_TOKEN, '{ apiKeys { id prefix scope projectId revokedAt } }');
    expect(listed.data).toEqual({ apiKeys: [{ id: key.id, prefix: rows[0]!.prefix, scope: 'write', projectId: 1, revokedAt: null }] });
  });

  it('open REST with Bearer and with Basic (the key as password), and refuse a read key writing with 403', async () => {
    const s = await securedServer();
    const read = await createKey(s.url, 1, 'read');
    const basic = `Basic ${Buffer.from(`:${read.secret}`).toString('base64')}`;
    expect((await fetch(`${s.url}/sessions/1/status`, { headers: { authorization: basic } })).status).toBe(200);
    expect((await fetch(`${s.url}/sessions/1/status`, { headers: bearer(read.secret) })).status).toBe(200);
    const write = await post(`${s.url}/sessions/1/step`, { step_index: 0, loss: { train_mean: 1 } }, { ...bearer(read.secret), authorization: basic });
    expect(write.status).toBe(403);
    expect(JSON.parse(write.text)).toMatchObject({ code: 'FORBIDDEN', detail: expect.stringContaining('read') });
  });

  it("answer another project's ids as absent, the same body as an id that does not exist", async () => {
    const s = await securedServer();
    await post(`${s.url}/projects`, { name: 'B' }, bearer(ADMIN_TOKEN));
    const other = await createKey(s.url, 2, 'write');
    const forbidden = await fetch(`${s.url}/sessions/1`, { headers: bearer(other.secret) });
    const absent = await fetch(`${s.url}/sessions/999`, { headers: bearer(other.secret) });
    expect(forbidden.status).toBe(404);
    expect((await forbidden.json()) as object).toEqual({ ...((await absent.json()) as object), detail: 'Session 1 not found', details: { session: 1 } });
    const sessions = await gqlAs(s.url, other.secret, 'query($p: Int) { sessions(projectId: $p) { nodes { id } } }', { p: 1 });
    expect(sessions.errors?.map((e) => e.extensions?.code)).toEqual(['NOT_FOUND']);
  });

  it("list a project's key its project on any page of projects, and nothing past it", async () => {
    const s = await securedServer();
    for (const name of ['B', 'C']) await post(`${s.url}/projects`, { name }, bearer(ADMIN_TOKEN));
    const key = await createKey(s.url, 3, 'read');
    const page = async (args: string) => (await gqlAs<{ projects: { id: number }[] }>(s.url, key.secret, `{ projects${args} { id } }`)).data?.projects;
    expect(await page('')).toEqual([{ id: 3 }]);
    expect(await page('(first: 1)')).toEqual([{ id: 3 }]);
    expect(await page('(first: 1, after: 1)')).toEqual([{ id: 3 }]);
    expect(await page('(after: 3)')).toEqual([]);
    const rest = async (query: string) => (await (await fetch(`${s.url}/projects${query}`, { headers: bearer(key.secret) })).json()) as { id: number }[];
    expect((await rest('?limit=1')).map((p) => p.id)).toEqual([3]);
    expect(await rest('?after=3')).toEqual([]);
    expect((await fetch(`${s.url}/projects?after=abc`, { headers: bearer(key.secret) })).status).toBe(422);
  });

  it('guard subscriptions over HTTP (server-sent events) as over graphql-ws', async () => {
    const s = await securedServer();
    const other = await createKey(s.url, null, 'read');
    const sse = async (key: string | undefined) => {
      const res = await fetch(`${s.url}/graphql`, {
        method: 'POST',
        headers: { ...bearer(key), accept: 'text/event-stream' },
        body: JSON.stringify({ query: 'subscription { sessionStatus(sessionId: 1) { status } }' }),
      });
      const reader = res.body!.getReader();
      let text = '';
      while (!text.includes('data: {')) text += new TextDecoder().decode((await reader.read()).value);
      await reader.cancel();
      return { status: res.status, text };
    };
    const anonymous = await sse(undefined);
    expect(anonymous.status).toBe(401);
    expect(anonymous.text).toContain('"code":"UNAUTHENTICATED"');
    expect((await sse(other.secret)).text).toContain('"status":"running"');
  });

  it('are rate limited per key: 429 with Retry-After over REST and GraphQL', async () => {
    const s = await securedServer({ rateLimitPerSecond: 1, rateLimitBurst: 2 });
    const key = await createKey(s.url, 1, 'read');
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await fetch(`${s.url}/projects`, { headers: bearer(key.secret) })).status);
    expect(statuses).toEqual([200, 200, 429]);
    const limited = await fetch(`${s.url}/projects`, { headers: bearer(key.secret) });
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(await limited.json()).toMatchObject({ code: 'RATE_LIMITED' });
    const gql = await gqlAs(s.url, key.secret, '{ projects { id } }');
    expect(gql.status).toBe(429);
    expect(gql.errors?.[0]?.extensions?.code).toBe('RATE_LIMITED');
    // Another key has its own bucket; the admin token none.
    const other = await createKey(s.url, 1, 'read');
    expect((await fetch(`${s.url}/projects`, { headers: bearer(other.secret) })).status).toBe(200);
  });

  it('cap the WebSockets (4429) and the subscriptions (TOO_MANY_SUBSCRIPTIONS) one key holds', async () => {
    const s = await securedServer({ maxWebSocketsPerKey: 1, maxSubscriptionsPerKey: 1 });
    const key = await createKey(s.url, 1, 'read');
    const first = liveSubscription(s.wsUrl, key.secret);
    await waitUntil(() => first.messages.some((m) => m.type === 'next'), 'the first subscription runs');
    const second = await subscribeOnce(s.wsUrl, { apiKey: key.secret }, STATUS, { s: 1 });
    expect(second).toEqual({ kind: 'closed', code: 4429 });
    const admin = liveSubscription(s.wsUrl, ADMIN_TOKEN);
    await waitUntil(() => admin.messages.some((m) => m.type === 'next'), 'the admin token is not capped');
    // The same socket asking for a second subscription.
    const other = await createKey(s.url, 1, 'read');
    const socket = new WebSocket(s.wsUrl, 'graphql-transport-ws');
    defer(() => socket.close());
    const errors: unknown[] = [];
    socket.on('message', (m) => {
      const msg = JSON.parse(String(m)) as { type: string; payload?: unknown };
      if (msg.type === 'error') errors.push(msg.payload);
      if (msg.type !== 'connection_ack') return;
      socket.send(JSON.stringify({ id: 'a', type: 'subscribe', payload: { query: STATUS, variables: { s: 1 } } }));
      socket.send(JSON.stringify({ id: 'b', type: 'subscribe', payload: { query: STATUS, variables: { s: 1 } } }));
    });
    await new Promise((r) => socket.on('open', r));
    socket.send(JSON.stringify({ type: 'connection_init', payload: { apiKey: other.secret } }));
    await waitUntil(() => errors.length === 1, 'the second subscription is refused');
    expect(errors[0]).toEqual([expect.objectContaining({ extensions: { code: 'TOO_MANY_SUBSCRIPTIONS' } })]);
  });
});

describe('the tfjs Observer', () => {
  it('sends its apiKey on its WebSocket, and says once that the server refused a wrong one', async () => {
    const s = await securedServer();
    const key = await createKey(s.url, 1, 'write');
    const good = await Observer.create({ projectId: 1, runName: 'keyed', config: { serverUrl: s.url, apiKey: key.secret, trackConsoleLogs: false } });
    await good.close();
    expect(await s.db.trainSession.count({ where: { runName: 'keyed' } })).toBe(1);
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    defer(() => warn.mockRestore());
    const bad = await Observer.create({ projectId: 1, runName: 'refused', config: { serverUrl: s.url, apiKey: 'obs_wrong', trackConsoleLogs: false } });
    defer(() => void bad.close());
    await waitUntil(() => warn.mock.calls.some((c) => String(c[0]).includes('refused the API key (4403')), 'the observer says its key was refused');
    expect(warn.mock.calls.filter((c) => String(c[0]).includes('refused the API key')).length).toBe(1);
  });
});

describe('revocation', () => {
  it('refuses the key at once and closes its open subscription with 4403', async () => {
    const s = await securedServer();
    const key = await createKey(s.url, 1, 'read');
    const live = liveSubscription(s.wsUrl, key.secret);
    await waitUntil(() => live.messages.some((m) => m.type === 'next'), 'the subscription runs');
    await revokeKey(s.url, key.id);
    expect(await live.closed).toBe(4403);
    const after = await fetch(`${s.url}/projects`, { headers: bearer(key.secret) });
    expect(after.status).toBe(401);
    expect(await after.json()).toMatchObject({ code: 'UNAUTHENTICATED', detail: 'This API key was revoked' });
  });

  it('closes the subscription another replica holds, through Redis', async () => {
    // Two replicas share a database only on PostgreSQL: this test uses one whichever project runs it.
    const { url: databaseUrl, drop } = await freshPostgresDatabase();
    defer(drop);
    const redis = { redisUrl: 'redis://127.0.0.1:6379', redisPrefix: `auth-test-${process.pid}-${Date.now()}:` };
    const a = await securedServer({ databaseUrl, ...redis });
    const b = await startTestServer({ auth: 'required', adminToken: ADMIN_TOKEN, databaseUrl, ...redis });
    await waitForRedisSubscription(redis.redisUrl, redis.redisPrefix, 2);
    const key = await createKey(a.url, 1, 'read');
    const live = liveSubscription(b.wsUrl, key.secret);
    await waitUntil(() => live.messages.some((m) => m.type === 'next'), 'the subscription on B runs');
    await revokeKey(a.url, key.id);
    expect(await live.closed).toBe(4403);
    expect((await fetch(`${b.url}/projects`, { headers: bearer(key.secret) })).status).toBe(401);
  });
});

/** GET /projects with a Host header of our choosing (fetch sets its own). */
function getWithHost(port: number, host: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/projects', headers: { host } }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('modes', () => {
  it('needs no key on loopback by default, and refuses a Host that is not a loopback name (DNS rebinding)', async () => {
    const s = await startTestServer();
    expect((await post(`${s.url}/projects`, { name: 'laptop' })).status).toBe(200);
    expect((await fetch(`${s.url}/projects`)).status).toBe(200);
    const rebound = await getWithHost(s.port, `evil.example:${s.port}`);
    expect(rebound.status).toBe(403);
    expect(JSON.parse(rebound.body)).toMatchObject({ code: 'FORBIDDEN_HOST' });
    expect((await getWithHost(s.port, `localhost:${s.port}`)).status).toBe(200);
    const ws = new WebSocket(s.wsUrl, 'graphql-transport-ws', { headers: { host: `evil.example:${s.port}` } });
    const refused = await new Promise<number>((resolve) => ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0)));
    expect(refused).toBe(401);
  });

  it('refuses to start on a public address with AUTH unset, and starts with a warning when AUTH=off', async () => {
    const databaseUrl = await testDatabaseUrl();
    await expect(startServer({ port: 0, host: '0.0.0.0', databaseUrl })).rejects.toThrow(/AUTH=required.*AUTH=off/s);
    const warnings: string[] = [];
    const s = await startServer({ port: 0, host: '0.0.0.0', databaseUrl, auth: 'off', onWarning: (m) => warnings.push(m) });
    defer(() => s.close());
    expect(warnings).toEqual([expect.stringContaining('AUTH=off on 0.0.0.0')]);
  });

  it('keeps /health open with auth required, saying nothing about data', async () => {
    const s = await securedServer();
    const health = await fetch(`${s.url}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok', database: 'ok' });
    expect((await fetch(`${s.url}/projects`)).status).toBe(401);
  });
});
