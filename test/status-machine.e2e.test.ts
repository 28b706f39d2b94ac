/**
 * The session status machine with several servers on one PostgreSQL database and one Redis:
 * the database is the source of truth (status including `analyzing`, the issues a person
 * resumed past, how far diagnostics judged), status changes are conditional updates that
 * never overwrite each other, each step is judged once whichever replica stored it, and a
 * session whose judge died is taken over by another replica.
 */
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { waitForRedisSubscription } from '../server/lib/event-bus.ts';
import { freshPostgresDatabase } from './helpers/postgres.ts';
import { collect, defer, disposeAll, post, startTestServer, waitUntil, wsClient } from './helpers/server.ts';

afterEach(disposeAll);

const REDIS_URL = process.env.OBSERVER_TEST_REDIS ?? 'redis://127.0.0.1:6379';

type Server = Awaited<ReturnType<typeof startTestServer>>;

/** `n` servers on one fresh PostgreSQL database and the machine's Redis, with a prefix of their own. */
async function replicas(n: number, opts: Parameters<typeof startTestServer>[0] = {}) {
  const { url, drop } = await freshPostgresDatabase();
  defer(drop);
  const redisPrefix = `observer-test-${randomBytes(4).toString('hex')}:`;
  const servers: Server[] = [];
  for (let i = 0; i < n; i++) servers.push(await startTestServer({ databaseUrl: url, redisUrl: REDIS_URL, redisPrefix, ...opts }));
  for (const s of servers) await waitUntil(async () => (await (await fetch(`${s.url}/health`)).json()).redis === 'up', 'the replica is connected to Redis');
  return { servers, redisPrefix };
}

async function newSession(s: Server): Promise<number> {
  const project = JSON.parse((await post(`${s.url}/projects`, { name: 'p' })).text).id as number;
  return JSON.parse((await post(`${s.url}/sessions/project/${project}`, { run_name: 'r' })).text).id as number;
}

const step = (i: number, loss: number | 'NaN') => `{"step_index": ${i}, "loss": {"train_mean": ${loss}}}`;
/** The seed's status endpoint answers the status as a JSON string. */
const status = async (s: Server, id: number) => (await (await fetch(`${s.url}/sessions/${id}/status`)).json()) as string;
const row = (s: Server, id: number) => s.db.trainSession.findUniqueOrThrow({ where: { id } });
const runs = (s: Server, id: number) => s.db.diagnosticRun.findMany({ where: { sessionId: id }, orderBy: { id: 'asc' } });
const settled = async (servers: Server[], id: number) => {
  const r = await row(servers[0]!, id);
  return r.judgedSeq === r.stepSeq && r.judgeOwner === null && r.status !== 'analyzing';
};

describe('the session status machine across replicas', () => {
  it('pauses a subscriber on A for a step B stored and judged, resumes it from C, and remembers the acknowledged issue in the database', async () => {
    const { servers, redisPrefix } = await replicas(3);
    const [a, b, c] = servers as [Server, Server, Server];
    const id = await newSession(a);
    const events = collect<{ sessionStatus: { status: string; version: number; reason: string } }>(
      wsClient(a.wsUrl),
      'subscription($s: Int!) { sessionStatus(sessionId: $s) { status version reason } }',
      { s: id },
    );
    await waitUntil(() => a.services.pubsub.subscriberCount('sessionStatus', id) === 1, 'A has the subscriber');
    await waitForRedisSubscription(REDIS_URL, redisPrefix, 1);

    for (let i = 0; i < 5; i++) expect((await post(`${b.url}/sessions/${id}/step`, step(i, 2 - i * 0.1))).status).toBe(200);
    expect((await post(`${b.url}/sessions/${id}/step`, step(5, 'NaN'))).status).toBe(200);
    await waitUntil(() => events.events.some((e) => e.sessionStatus.status === 'pending'), 'the subscriber on A hears the pause B decided', 10_000);
    // Every replica answers from the database, not from its memory.
    expect(await status(c, id)).toBe('pending');
    expect((await row(a, id)).lastIssueKeys).toContain('non_finite');

    expect((await post(`${c.url}/sessions/${id}/action`, { action: 'resume' })).status).toBe(200);
    await waitUntil(() => events.events.at(-1)?.sessionStatus.status === 'running', 'the subscriber on A hears the resume sent to C', 10_000);
    expect((await row(b, id)).acknowledged).toContain('non_finite');

    // The same issue again, stored and judged by A this time: acknowledged, so it does not pause again.
    expect((await post(`${a.url}/sessions/${id}/step`, step(6, 'NaN'))).status).toBe(200);
    await waitUntil(() => settled(servers, id), 'the step is judged', 10_000);
    expect(await status(b, id)).toBe('running');

    const versions = events.events.map((e) => e.sessionStatus.version);
    expect(versions).toEqual([...versions].sort((x, y) => x - y));
    expect(new Set(versions).size).toBe(versions.length);
    expect(events.errors).toEqual([]);
  });

  it('judges each step once, in order, while both replicas try to judge the session', async () => {
    const { servers } = await replicas(2);
    const [a, b] = servers as [Server, Server];
    const id = await newSession(a);
    for (let i = 0; i < 20; i++) {
      const stored = post(`${(i % 2 ? a : b).url}/sessions/${id}/step`, step(i, 2 - i * 0.05));
      // The other replica tries to judge the same session at the same moment.
      (i % 2 ? b : a).services.diagnostics.schedule(id);
      expect((await stored).status).toBe(200);
      await waitUntil(() => settled(servers, id), `step ${i} is judged`, 10_000);
    }
    await Promise.all(servers.map((s) => s.services.diagnostics.idle()));
    const stored = await runs(a, id);
    // One run per step, each about the step just stored: no step judged twice, none skipped.
    expect(stored.map((r) => r.stepIndex)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(await status(a, id)).toBe('running');
  });

  it('judges every step of steps arriving at two replicas at once, and ends running', async () => {
    const { servers } = await replicas(2);
    const [a, b] = servers as [Server, Server];
    const id = await newSession(a);
    const answers = await Promise.all(Array.from({ length: 60 }, (_, i) => post(`${(i % 2 ? a : b).url}/sessions/${id}/step`, step(i, 2 - i * 0.01))));
    expect(answers.map((r) => r.status)).toEqual(answers.map(() => 200));
    await waitUntil(() => settled(servers, id), 'every step is judged', 20_000);
    const r = await row(a, id);
    expect(await a.db.trainStep.count({ where: { sessionId: id } })).toBe(60);
    expect(r.status).toBe('running');
    // Runs judge newer steps as they go: the newest judged step never goes back.
    const judged = (await runs(b, id)).map((x) => x.stepIndex!);
    expect(judged).toEqual([...judged].sort((x, y) => x - y));
    expect(judged.at(-1)).toBe(59);
  });

  it('lets exactly one of several replicas\' concurrent actions through (a conditional update, never a lost one)', async () => {
    const { servers } = await replicas(3);
    const id = await newSession(servers[0]!);
    const before = (await row(servers[0]!, id)).statusVersion;
    for (const action of ['pause', 'resume', 'pause', 'resume']) {
      const answers = await Promise.all(servers.flatMap((s) => [s, s]).map((s) => post(`${s.url}/sessions/${id}/action`, { action })));
      const codes = answers.map((r) => r.status).sort();
      expect(codes.filter((c) => c === 200), `${action}: ${codes.join(',')}`).toHaveLength(1);
      expect(codes.filter((c) => c !== 200).every((c) => c === 409)).toBe(true);
    }
    expect((await row(servers[1]!, id)).statusVersion).toBe(before + 4);

    // The same while two replicas store steps of the session (each moving it to `analyzing` and back).
    let stepping = true;
    const stepper = (async () => {
      for (let i = 0; stepping; i++) {
        const r = await post(`${servers[i % 2]!.url}/sessions/${id}/step`, step(i, 2 - i * 0.001));
        if (r.status !== 200) throw new Error(`step ${i}: ${r.status} ${r.text}`);
      }
    })();
    for (let round = 0; round < 5; round++) {
      for (const action of ['pause', 'resume']) {
        const answers = await Promise.all(servers.flatMap((s) => [s, s]).map((s) => post(`${s.url}/sessions/${id}/action`, { action })));
        const codes = answers.map((r) => r.status).sort();
        expect(codes.filter((c) => c === 200), `${action}: ${codes.join(',')}`).toHaveLength(1);
        expect(codes.filter((c) => c !== 200).every((c) => c === 409)).toBe(true);
      }
    }
    stepping = false;
    await stepper;
    const answers = await Promise.all(servers.map((s) => post(`${s.url}/sessions/${id}/action`, { action: 'stop' })));
    expect(answers.map((r) => r.status).sort()).toEqual([200, 409, 409]);
    await waitUntil(() => settled(servers, id), 'the last steps are judged', 10_000);
    expect((await row(servers[2]!, id)).status).toBe('stopped');
  });

  it('takes over a session whose judge died: the lease expires and another replica judges the step', async () => {
    const { servers } = await replicas(2, { judgeLeaseMs: 1000, judgeSweepMs: 200 });
    const [a, b] = servers as [Server, Server];
    const id = await newSession(a);
    // A replica that died while judging: its lease is still there for a moment.
    await a.db.trainSession.update({ where: { id }, data: { judgeOwner: 'a-replica-killed-with-kill-9', judgeUntil: Date.now() + 1500 } });
    expect((await post(`${a.url}/sessions/${id}/step`, step(0, 'NaN'))).status).toBe(200);
    await Promise.all(servers.map((s) => s.services.diagnostics.idle()));
    expect(await status(b, id)).toBe('analyzing');
    await waitUntil(async () => (await status(b, id)) === 'pending', 'another replica judged the step once the lease expired', 10_000);
    const r = await row(a, id);
    expect(r.judgedSeq).toBe(r.stepSeq);
    expect((await runs(a, id)).map((x) => x.stepIndex)).toEqual([0]);
  });
});
