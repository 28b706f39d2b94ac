/**
 * Issue 15, the server's part: a resume may carry remedies (REST and GraphQL), stored with who
 * chose what, when and at which step in the transaction of the status change, delivered on the
 * status subscription, read back over both APIs, and reported on by the observer. A resume
 * without remedies, and the seed's Python client, are as before.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitForRedisSubscription } from '../server/lib/event-bus.ts';
import { parseExtendedJson, stringifyExtendedJson } from '../server/lib/extended-json.ts';
import { freshPostgresDatabase } from './helpers/postgres.ts';
import { seedSession, seedStep } from './helpers/payloads.ts';
import { runSeedClient } from './helpers/seed-client.ts';
import { collect, defer, disposeAll, gql, post, startTestServer, waitUntil, wsClient } from './helpers/server.ts';

type Remedy = { kind: string; factor: number | null; maxNorm: number | null; toStep: number | null; atStep: number | null; summary: string; reason: string | null };
type Application = { id: number; statusVersion: number; stepIndex: number | null; chosenBy: string; source: string | null; issueKeys: string[]; remedies: Remedy[] };
type StatusData = { sessionStatus: { status: string; version: number; reason: string; remedies: Application | null } };

const REMEDY = 'kind factor maxNorm toStep atStep summary reason';
const APPLICATION = `id statusVersion stepIndex chosenBy source issueKeys remedies { ${REMEDY} }`;
const STATUS = `subscription($id: Int!) { sessionStatus(sessionId: $id) { status version reason remedies { ${APPLICATION} } } }`;
const RESUME = `mutation($id: Int!, $r: [RemedyInput!], $src: String) { sessionAction(sessionId: $id, action: resume, remedies: $r, source: $src) { id status statusVersion } }`;

let s: Awaited<ReturnType<typeof startTestServer>>;
let project: number;

beforeAll(async () => {
  s = await startTestServer();
  project = JSON.parse((await post(`${s.url}/projects`, { name: 'remedies' })).text).id as number;
});
afterAll(disposeAll);

/** A new session, paused by a person (so that it may be resumed), with a live status subscription. */
async function pausedSession(steps = 0) {
  const id = JSON.parse((await post(`${s.url}/sessions/project/${project}`, seedSession('r'))).text).id as number;
  for (let i = 0; i < steps; i++) await post(`${s.url}/sessions/${id}/step`, seedStep(i));
  await s.services.diagnostics.idle();
  const status = collect<StatusData>(wsClient(s.wsUrl), STATUS, { id });
  await waitUntil(() => status.events.length >= 1, 'the current status arrives');
  await waitUntil(() => s.services.pubsub.subscriberCount('sessionStatus', id) === 1, 'subscribed');
  expect((await post(`${s.url}/sessions/${id}/action`, { action: 'pause' })).status).toBe(200);
  await waitUntil(() => status.events.at(-1)!.sessionStatus.status === 'paused', 'the pause arrives');
  return { id, status };
}

const getJson = async (url: string) => {
  const res = await fetch(url);
  // Python's JSON dialect: a NaN metric reads back as a bare NaN token.
  return { status: res.status, body: parseExtendedJson(await res.text()) as Record<string, unknown> };
};

describe('a resume with remedies', () => {
  it('over REST (snake_case) is stored with who, when and at which step, and arrives on the status subscription', async () => {
    const { id, status } = await pausedSession(3);
    const res = await post(`${s.url}/sessions/${id}/action`, {
      action: 'resume',
      remedies: [
        { kind: 'scale_learning_rate', factor: 0.1, reason: 'the loss climbed' },
        { kind: 'clip_gradients', max_norm: 1.5 },
        { kind: 'rollback', to_step: 1 },
      ],
      source: 'curl',
    });
    expect(res.status).toBe(200);
    const session = JSON.parse(res.text) as Record<string, unknown>;
    // The seed's session shape, unchanged.
    expect(Object.keys(session).sort()).toEqual(['config', 'cuda_available', 'device', 'ended_at', 'id', 'metadata', 'project_id', 'pytorch_version', 'run_id', 'run_name', 'started_at', 'status']);
    expect(session.status).toBe('running');

    await waitUntil(() => status.events.at(-1)!.sessionStatus.status === 'running', 'the resume arrives');
    const event = status.events.at(-1)!.sessionStatus;
    expect(event.reason).toBe('action: resume');
    expect(event.remedies).toMatchObject({ statusVersion: event.version, stepIndex: 2, chosenBy: 'open', source: 'curl' });
    // In the order an observer applies them: restore first, then change what broke.
    expect(event.remedies!.remedies).toEqual([
      { kind: 'rollback', factor: null, maxNorm: null, toStep: 1, atStep: null, summary: 'roll back to step 1', reason: null },
      { kind: 'scale_learning_rate', factor: 0.1, maxNorm: null, toStep: null, atStep: null, summary: 'lower the learning rate 10x', reason: 'the loss climbed' },
      { kind: 'clip_gradients', factor: null, maxNorm: 1.5, toStep: null, atStep: null, summary: 'clip gradients to a global norm of 1.5', reason: null },
    ]);

    const stored = await getJson(`${s.url}/sessions/${id}/remedies`);
    expect(stored.status).toBe(200);
    expect(stored.body).toMatchObject({
      next_cursor: null,
      items: [
        {
          id: event.remedies!.id,
          session_id: id,
          status_version: event.version,
          step_index: 2,
          chosen_by: 'open',
          source: 'curl',
          report: null,
          remedies: [
            { kind: 'rollback', to_step: 1, reason: null, confidence: null },
            { kind: 'scale_learning_rate', factor: 0.1, reason: 'the loss climbed' },
            { kind: 'clip_gradients', max_norm: 1.5 },
          ],
        },
      ],
    });
  });

  it('over GraphQL is stored, arrives on the subscription, and reads back as Session.remedies', async () => {
    const { id, status } = await pausedSession(2);
    const r = await gql<{ sessionAction: { status: string; statusVersion: number } }>(s.url, RESUME, { id, r: [{ kind: 'skip_batch', atStep: 1, trainingStep: 40 }], src: 'dashboard' });
    expect(r.errors).toBeUndefined();
    expect(r.data!.sessionAction.status).toBe('running');
    await waitUntil(() => status.events.at(-1)!.sessionStatus.status === 'running', 'the resume arrives');
    expect(status.events.at(-1)!.sessionStatus.remedies).toMatchObject({ source: 'dashboard', remedies: [{ kind: 'skip_batch', atStep: 1, summary: 'skip the batch of training step 40' }] });

    const read = await gql<{ session: { remedies: Application[] } }>(s.url, `query($id: Int!) { session(id: $id) { remedies { ${APPLICATION} } } }`, { id });
    expect(read.data!.session.remedies).toEqual([status.events.at(-1)!.sessionStatus.remedies]);
  });

  it('is refused, naming the problem, when the remedies are invalid; nothing is stored and the session stays paused', async () => {
    const { id, status } = await pausedSession();
    const bad: [unknown, RegExp][] = [
      [[{ kind: 'scale_learning_rate', factor: 0 }], /remedies\.0\.factor: expected a factor from 0.0001 to 10000/],
      [[{ kind: 'scale_learning_rate', factor: 1 }], /a factor of 1 changes nothing/],
      [[{ kind: 'clip_gradients', max_norm: -1 }], /remedies\.0\.maxNorm: expected a norm above 0/],
      [[{ kind: 'clip_gradients' }], /remedies\.0\.maxNorm/],
      [[{ kind: 'rollback', to_step: 1.5 }], /remedies\.0\.toStep: expected an integer/],
      // -1 is the state the run started with; nothing lies before it.
      [[{ kind: 'rollback', to_step: -2 }], /remedies\.0\.toStep: expected an integer from -1/],
      [[{ kind: 'skip_batch', at_step: -1 }], /remedies\.0\.atStep: expected an integer from 0/],
      [[{ kind: 'warp_drive' }], /kind: expected one of scale_learning_rate, clip_gradients, rollback, skip_batch/],
      [[{ kind: 'rollback', to_stpe: 3 }], /to_stpe/],
      [[{ kind: 'rollback' }, { kind: 'rollback', to_step: 2 }], /rollback is chosen twice/],
      ['lower it', /expected a list of remedies/],
    ];
    for (const [remedies, message] of bad) {
      const res = await post(`${s.url}/sessions/${id}/action`, { action: 'resume', remedies });
      expect(res.status, JSON.stringify(remedies)).toBe(422);
      expect(JSON.parse(res.text)).toMatchObject({ code: 'VALIDATION_FAILED', detail: expect.stringMatching(message) });
    }
    // Remedies go with resume only.
    const stop = await post(`${s.url}/sessions/${id}/action`, { action: 'stop', remedies: [{ kind: 'rollback' }] });
    expect(stop.status).toBe(422);
    expect(JSON.parse(stop.text).detail).toBe('Invalid remedies: remedies go with resume only, not stop');

    // GraphQL: an unknown kind is refused by the schema, a bad value by the same validation as REST.
    const kind = await gql(s.url, RESUME, { id, r: [{ kind: 'warp_drive' }] });
    expect(kind.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const value = await gql(s.url, RESUME, { id, r: [{ kind: 'scale_learning_rate', factor: -2 }] });
    expect(value.errors?.[0]).toMatchObject({ extensions: { code: 'VALIDATION_FAILED' }, message: expect.stringContaining('remedies.0.factor') });

    expect(await s.db.remedyApplication.count({ where: { sessionId: id } })).toBe(0);
    expect((await getJson(`${s.url}/sessions/${id}/status`)).body).toBe('paused');
    expect(status.events.at(-1)!.sessionStatus.status).toBe('paused');

    // -1 is accepted: the state the run started with.
    const start = await post(`${s.url}/sessions/${id}/action`, { action: 'resume', remedies: [{ kind: 'rollback', to_step: -1 }] });
    expect(start.status).toBe(200);
    const stored = await getJson(`${s.url}/sessions/${id}/remedies`);
    expect((stored.body as { items: { remedies: unknown[] }[] }).items[0]!.remedies).toEqual([{ kind: 'rollback', to_step: -1, reason: null, confidence: null }]);
  });

  it('that loses a race to another resume stores nothing: the status change and the insert are one transaction', async () => {
    const { id } = await pausedSession(1);
    const answers = await Promise.all(
      [0.1, 0.5, 0.3].map((factor) => post(`${s.url}/sessions/${id}/action`, { action: 'resume', remedies: [{ kind: 'scale_learning_rate', factor }] })),
    );
    expect(answers.map((a) => a.status).sort()).toEqual([200, 409, 409]);
    const rows = await s.db.remedyApplication.findMany({ where: { sessionId: id } });
    expect(rows).toHaveLength(1);
    const session = await s.db.trainSession.findUniqueOrThrow({ where: { id } });
    expect(rows[0]!.statusVersion).toBe(session.statusVersion);
  });
});

describe('a resume without remedies', () => {
  it('is as before: the same answer, a status event without remedies, nothing stored', async () => {
    const { id, status } = await pausedSession(1);
    const res = await post(`${s.url}/sessions/${id}/action`, { action: 'resume' });
    expect(res.status).toBe(200);
    expect(JSON.parse(res.text)).toMatchObject({ id, status: 'running' });
    await waitUntil(() => status.events.at(-1)!.sessionStatus.status === 'running', 'the resume arrives');
    expect(status.events.at(-1)!.sessionStatus).toMatchObject({ reason: 'action: resume', remedies: null });
    // An empty list is no remedies either.
    await post(`${s.url}/sessions/${id}/action`, { action: 'pause' });
    expect((await post(`${s.url}/sessions/${id}/action`, { action: 'resume', remedies: [] })).status).toBe(200);
    expect((await getJson(`${s.url}/sessions/${id}/remedies`)).body).toEqual({ items: [], next_cursor: null });
  });
});

describe('from the rules to the resume', () => {
  it('a NaN pauses the run with remedies on its issue; a rollback chosen without a step goes to the last good flush the rules named', async () => {
    const id = JSON.parse((await post(`${s.url}/sessions/project/${project}`, seedSession('nan'))).text).id as number;
    const status = collect<StatusData>(wsClient(s.wsUrl), STATUS, { id });
    for (let i = 0; i < 3; i++) await post(`${s.url}/sessions/${id}/step`, seedStep(i));
    await post(`${s.url}/sessions/${id}/step`, stringifyExtendedJson(seedStep(3, Number.NaN)));
    await waitUntil(() => status.events.some((e) => e.sessionStatus.status === 'pending'), 'the NaN pauses the run');

    const latest = await gql<{ session: { latestDiagnostics: { issues: { code: string; remedies: (Remedy & { confidence: number })[] }[] } } }>(
      s.url,
      `query($id: Int!) { session(id: $id) { latestDiagnostics { issues { code remedies { ${REMEDY} confidence } } } } }`,
      { id },
    );
    const nan = latest.data!.session.latestDiagnostics.issues.find((i) => i.code === 'loss.non_finite')!;
    // A steady loss that one batch broke: back to step 2, skip the batch of step 3.
    expect(nan.remedies.map((r) => [r.kind, r.toStep ?? r.atStep])).toEqual([
      ['rollback', 2],
      ['skip_batch', 3],
    ]);
    expect(nan.remedies[0]!.reason).toMatch(/^Roll back to step 2: the loss there was 2.28/);
    expect(nan.remedies[0]!.confidence).toBeGreaterThanOrEqual(0.5);
    // Over REST, the issue carries them too (snake_case), beside the seed's fields.
    const runs = (await getJson(`${s.url}/sessions/${id}/diagnostics?limit=1`)).body.items as { issues: { code: string; remedies: unknown[] }[] }[];
    expect(runs[0]!.issues.find((i) => i.code === 'loss.non_finite')!.remedies).toEqual([
      expect.objectContaining({ kind: 'rollback', to_step: 2 }),
      expect.objectContaining({ kind: 'skip_batch', at_step: 3, training_step: null }),
    ]);

    const r = await gql(s.url, RESUME, { id, r: [{ kind: 'rollback' }, { kind: 'skip_batch', atStep: 3 }] });
    expect(r.errors).toBeUndefined();
    await waitUntil(() => status.events.at(-1)!.sessionStatus.status === 'running', 'the resume arrives');
    expect(status.events.at(-1)!.sessionStatus.remedies).toMatchObject({ issueKeys: ['loss.non_finite@'], remedies: [{ kind: 'rollback', toStep: 2 }, { kind: 'skip_batch', atStep: 3 }] });

    // A subscriber that comes after the resume gets its remedies with the current status.
    const late = collect<StatusData>(wsClient(s.wsUrl), STATUS, { id });
    await waitUntil(() => late.events.length === 1, 'the current status arrives');
    expect(late.events[0]!.sessionStatus).toMatchObject({ status: 'running', reason: 'current', remedies: { remedies: [{ kind: 'rollback', toStep: 2 }, { kind: 'skip_batch' }] } });
  });
});

describe("the observer's report", () => {
  it('is stored over REST and GraphQL, refused for remedies that were not chosen or another session', async () => {
    const { id } = await pausedSession(1);
    await post(`${s.url}/sessions/${id}/action`, { action: 'resume', remedies: [{ kind: 'rollback', to_step: 0 }, { kind: 'scale_learning_rate', factor: 0.1 }] });
    const [app] = (await getJson(`${s.url}/sessions/${id}/remedies`)).body.items as { id: number }[];

    const rest = await post(`${s.url}/sessions/${id}/remedies/${app!.id}/report`, {
      results: [
        { kind: 'scale_learning_rate', applied: true, detail: 'Adam 0.01 -> 0.001' },
        { kind: 'rollback', applied: false, detail: 'no snapshot at or before step 0' },
      ],
    });
    expect(rest.status).toBe(200);
    expect(JSON.parse(rest.text)).toMatchObject({ id: app!.id, report: [{ kind: 'scale_learning_rate', applied: true }, { kind: 'rollback', applied: false, detail: 'no snapshot at or before step 0' }], reported_at: expect.any(String) });

    const g = await gql<{ reportRemedies: { report: { kind: string; applied: boolean; detail: string | null }[] } }>(
      s.url,
      'mutation($s: Int!, $a: Int!) { reportRemedies(sessionId: $s, applicationId: $a, results: [{ kind: rollback, applied: true }, { kind: scale_learning_rate, applied: true }]) { report { kind applied detail } } }',
      { s: id, a: app!.id },
    );
    expect(g.data!.reportRemedies.report).toEqual([
      { kind: 'rollback', applied: true, detail: null },
      { kind: 'scale_learning_rate', applied: true, detail: null },
    ]);

    const stray = await post(`${s.url}/sessions/${id}/remedies/${app!.id}/report`, { results: [{ kind: 'clip_gradients', applied: true }] });
    expect(stray.status).toBe(422);
    expect(JSON.parse(stray.text).detail).toBe('Invalid report: results.0.kind: clip_gradients was not chosen with this resume (chosen: rollback, scale_learning_rate)');
    const other = JSON.parse((await post(`${s.url}/sessions/project/${project}`, seedSession('other'))).text).id as number;
    expect((await post(`${s.url}/sessions/${other}/remedies/${app!.id}/report`, { results: [{ kind: 'rollback', applied: true }] })).status).toBe(404);
  });
});

describe("the seed's Python client", () => {
  it('pauses on its NaN and goes on when a person resumes it with remedies it never asks for', async () => {
    const p = await startTestServer();
    await post(`${p.url}/projects`, { name: 'python' });
    const { events, stderr, exit } = runSeedClient(p.url, 1, [3, 8]);
    await waitUntil(() => events.some((e) => e.event === 'pending'), 'the client sees pending after its NaN step', 20_000);
    expect((await post(`${p.url}/sessions/1/action`, { action: 'resume', remedies: [{ kind: 'rollback' }, { kind: 'scale_learning_rate', factor: 0.1 }] })).status).toBe(200);
    // Stopped while it waits on its second NaN, as the seed's flow has it.
    await waitUntil(() => events.some((e) => e.event === 'pending' && e.step === 8), 'training continues after the resume, to its second NaN', 20_000);
    await post(`${p.url}/sessions/1/action`, { action: 'stop' });
    expect(await exit).toBe(0);
    expect(stderr()).toBe('');
    expect(events.at(-1)).toMatchObject({ event: 'stopped', status: 'stopped' });
    expect(await p.db.remedyApplication.count()).toBe(1);
  });
});

describe('across replicas', () => {
  it('a resume with remedies sent to replica B reaches the observer subscribed on replica A, through Redis', async () => {
    const { url, drop } = await freshPostgresDatabase();
    defer(drop);
    const redisUrl = process.env.OBSERVER_TEST_REDIS ?? 'redis://127.0.0.1:6379';
    const redisPrefix = `observer-test-${randomBytes(4).toString('hex')}:`;
    const a = await startTestServer({ databaseUrl: url, redisUrl, redisPrefix });
    const b = await startTestServer({ databaseUrl: url, redisUrl, redisPrefix });
    const pid = JSON.parse((await post(`${a.url}/projects`, { name: 'replicas' })).text).id as number;
    const id = JSON.parse((await post(`${a.url}/sessions/project/${pid}`, seedSession('r'))).text).id as number;
    const status = collect<StatusData>(wsClient(a.wsUrl), STATUS, { id });
    await waitUntil(() => a.services.pubsub.subscriberCount('sessionStatus', id) === 1, 'A has the subscriber');
    await waitForRedisSubscription(redisUrl, redisPrefix, 2);
    expect((await post(`${b.url}/sessions/${id}/action`, { action: 'pause' })).status).toBe(200);
    const res = await post(`${b.url}/sessions/${id}/action`, { action: 'resume', remedies: [{ kind: 'clip_gradients', max_norm: 2 }], source: 'replica-b' });
    expect(res.status).toBe(200);
    await waitUntil(() => status.events.at(-1)?.sessionStatus.status === 'running', 'the subscriber on A hears the resume sent to B', 10_000);
    const event = status.events.at(-1)!.sessionStatus;
    expect(event.remedies).toMatchObject({ statusVersion: event.version, source: 'replica-b', remedies: [{ kind: 'clip_gradients', maxNorm: 2 }] });
    // Stored once, in the database both replicas read.
    expect((await getJson(`${a.url}/sessions/${id}/remedies`)).body.items).toHaveLength(1);
    expect(status.errors).toEqual([]);
  });
});
