import { afterEach, describe, expect, it } from 'vitest';
import { stringifyExtendedJson } from '../server/lib/extended-json.ts';
import { seedSession, seedStep } from './helpers/payloads.ts';
import { collect, disposeAll, gql, post, startTestServer, waitUntil, wsClient } from './helpers/server.ts';

afterEach(disposeAll);

type StatusData = { sessionStatus: { status: string; previousStatus: string; stepIndex: number | null; reason: string; run: { healthScore: number; issues: { title: string }[] } | null } };
type StepData = { sessionSteps: { missedBefore: number; step: { stepIndex: number; loss: { trainMean: unknown } } } };
type LogData = { sessionLogs: { log: { level: string; msg: string } } };

const STATUS = 'subscription($id: Int!) { sessionStatus(sessionId: $id) { status previousStatus stepIndex reason run { healthScore issues { title } } } }';
const STEPS = 'subscription($id: Int!) { sessionSteps(sessionId: $id) { missedBefore step { stepIndex loss { trainMean } } } }';
const LOGS = 'subscription($id: Int!) { sessionLogs(sessionId: $id) { log { level msg } } }';

async function twoSessions(url: string) {
  await post(`${url}/projects`, { name: 'p' });
  await post(`${url}/sessions/project/1`, seedSession('a'));
  await post(`${url}/sessions/project/1`, seedSession('b'));
}

describe('live subscriptions over graphql-ws', () => {
  it('delivers steps, logs and status changes of a REST client to its subscribers, in order, and nobody else', async () => {
    const s = await startTestServer();
    await twoSessions(s.url);
    const client = wsClient(s.wsUrl);
    const status = collect<StatusData>(client, STATUS, { id: 1 });
    const steps = collect<StepData>(client, STEPS, { id: 1 });
    const logs = collect<LogData>(client, LOGS, { id: 1 });
    const otherSteps = collect<StepData>(client, STEPS, { id: 2 });
    await waitUntil(() => status.events.length === 1, 'the current status arrives first');
    expect(status.events[0]!.sessionStatus).toMatchObject({ status: 'running', reason: 'current' });
    await waitUntil(() => s.services.pubsub.subscriberCount('sessionLogs', 1) === 1 && s.services.pubsub.subscriberCount('sessionSteps', 2) === 1, 'all subscribed');

    for (let i = 0; i < 5; i++) await post(`${s.url}/sessions/1/step`, seedStep(i));
    await post(`${s.url}/sessions/1/log`, { level: 'error', msg: 'disk full', kind: 'error' });
    await post(`${s.url}/sessions/1/step`, stringifyExtendedJson(seedStep(5, Number.NaN)));

    await waitUntil(() => steps.events.length === 6 && logs.events.length === 1, 'steps and the log arrive');
    expect(steps.events.map((e) => e.sessionSteps.step.stepIndex)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(steps.events[5]!.sessionSteps.step.loss.trainMean).toBe('NaN');
    expect(logs.events[0]!.sessionLogs.log).toEqual({ level: 'ERROR', msg: 'disk full' });

    await waitUntil(() => status.events.some((e) => e.sessionStatus.status === 'pending'), 'the NaN verdict arrives');
    const pending = status.events.find((e) => e.sessionStatus.status === 'pending')!.sessionStatus;
    expect(pending).toMatchObject({ previousStatus: 'analyzing', stepIndex: 5, reason: 'diagnostics' });
    expect(pending.run!.issues.map((i) => i.title)).toContain('Loss is NaN');
    const transitions = status.events.map((e) => e.sessionStatus.status);
    expect(transitions.slice(0, 3)).toEqual(['running', 'analyzing', 'running']);

    await post(`${s.url}/sessions/1/action`, { action: 'stop' });
    await waitUntil(() => status.events.at(-1)!.sessionStatus.status === 'stopped', 'the stop arrives');
    expect(status.events.at(-1)!.sessionStatus.reason).toBe('action: stop');
    expect(otherSteps.events).toEqual([]);
    expect(status.errors).toEqual([]);
  });

  it('delivers a GraphQL mutation sent over the same socket to subscribers', async () => {
    const s = await startTestServer();
    await twoSessions(s.url);
    const client = wsClient(s.wsUrl);
    const steps = collect<StepData>(client, STEPS, { id: 2 });
    await waitUntil(() => s.services.pubsub.subscriberCount('sessionSteps', 2) === 1, 'subscribed');
    const result = await new Promise<unknown>((resolve, reject) => {
      client.subscribe(
        { query: 'mutation { recordStep(sessionId: 2, input: { stepIndex: 7, loss: { trainMean: "Infinity" } }) { created } }' },
        { next: resolve, error: reject, complete: () => {} },
      );
    });
    expect(result).toEqual({ data: { recordStep: { created: true } } });
    await waitUntil(() => steps.events.length === 1, 'the step arrives');
    expect(steps.events[0]!.sessionSteps.step).toEqual({ stepIndex: 7, loss: { trainMean: 'Infinity' } });
  });

  it('announces each new session to dashboards', async () => {
    const s = await startTestServer();
    await post(`${s.url}/projects`, { name: 'p' });
    const client = wsClient(s.wsUrl);
    const created = collect<{ sessionCreated: { id: number; runName: string } }>(client, 'subscription { sessionCreated { id runName } }', {});
    await waitUntil(() => s.services.pubsub.subscriberCount('sessionCreated', 0) === 1, 'subscribed');
    await post(`${s.url}/sessions/project/1`, seedSession('fresh'));
    await waitUntil(() => created.events.length === 1, 'the new session is announced');
    expect(created.events[0]!.sessionCreated).toEqual({ id: 1, runName: 'fresh' });
  });

  it('answers a subscription to an unknown session with a coded error', async () => {
    const s = await startTestServer();
    const client = wsClient(s.wsUrl);
    const sub = collect(client, STEPS, { id: 404 });
    await waitUntil(() => sub.errors.length === 1, 'the error arrives');
    expect(JSON.stringify(sub.errors[0])).toContain('NOT_FOUND');
  });

  it('removes a subscriber as soon as it unsubscribes', async () => {
    const s = await startTestServer();
    await twoSessions(s.url);
    const client = wsClient(s.wsUrl);
    const status = collect<StatusData>(client, STATUS, { id: 1 });
    await waitUntil(() => status.events.length === 1, 'subscribed');
    expect(s.services.pubsub.subscriberCount('sessionStatus', 1)).toBe(1);
    status.unsubscribe();
    await waitUntil(() => s.services.pubsub.subscriberCount('sessionStatus', 1) === 0, 'the subscription is gone without waiting for an event');
  });

  it('keeps a lagging subscriber bounded: it gets the newest events and a count of those it missed', async () => {
    const s = await startTestServer({ subscriberQueueLimit: 8 });
    await twoSessions(s.url);
    const iterator = await s.services.steps.watch(1);
    for (let i = 0; i < 50; i++) await post(`${s.url}/sessions/1/step`, seedStep(i));
    const first = await iterator.next();
    expect(first.value).toMatchObject({ stepIndex: 42, missedBefore: 42 });
    await iterator.return!();
  });

  it('refuses a WebSocket from a page of another website', async () => {
    const s = await startTestServer();
    const { default: WebSocket } = await import('ws');
    const socket = new WebSocket(s.wsUrl, 'graphql-transport-ws', { origin: 'https://evil.example.com' });
    const status = await new Promise<number>((resolve) => socket.once('unexpected-response', (_req, res) => resolve(res.statusCode!)));
    expect(status).toBe(401);
  });

  it('refuses a WebSocket message over the size limit without harming the server', async () => {
    const s = await startTestServer({ maxBodyBytes: 4096 });
    const { default: WebSocket } = await import('ws');
    const socket = new WebSocket(s.wsUrl, 'graphql-transport-ws');
    await new Promise((r) => socket.once('open', r));
    const closed = new Promise<number>((r) => socket.once('close', (code) => r(code)));
    socket.send('x'.repeat(10_000));
    expect(await closed).toBe(1009);
    expect((await gql(s.url, '{ projects { id } }')).data).toEqual({ projects: [] });
  });
});
