/**
 * The authorization matrix, generated from the REST route table and the GraphQL schema: every
 * route and every root field (queries and mutations over HTTP, subscriptions over graphql-ws),
 * and the WebSocket handshake, times eight callers, each asserting the exact status or code.
 * A route or field without an access rule stops the server from starting; one without a
 * sample request below fails `has a sample for every door`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GraphQLObjectType } from 'graphql';
import type { Rule } from '../server/auth/access.ts';
import { GRAPHQL_RULES, REST_RULES } from '../server/auth/rules.ts';
import { schema } from '../server/graphql/schema.ts';
import { routeKey } from '../server/rest/router.ts';
import { restRoutes } from '../server/rest/routes.ts';
import type { Services } from '../server/services.ts';
import { ADMIN_TOKEN, bearer, createKey, gqlAs, revokeKey, subscribeOnce, type WsOutcome } from './helpers/auth.ts';
import { seedSession, seedStep } from './helpers/payloads.ts';
import { disposeAll, startTestServer, waitUntil } from './helpers/server.ts';

const WHO = ['no key', 'malformed key', 'revoked key', "another project's key", 'read key', 'write key', 'admin key', 'admin token'] as const;
type Who = (typeof WHO)[number];
type Outcome = 'ok' | 'UNAUTHENTICATED' | 'FORBIDDEN' | 'NOT_FOUND';

/** What each caller must get under a rule (the behaviour, written once). */
function expected(rule: Rule, who: Who): Outcome {
  if (who === 'no key' || who === 'malformed key' || who === 'revoked key') return 'UNAUTHENTICATED';
  if (who === 'admin key' || who === 'admin token') return 'ok';
  if (rule.need === 'admin') return 'FORBIDDEN';
  if (who === "another project's key") return 'project' in rule.on || 'session' in rule.on ? 'NOT_FOUND' : 'ok';
  if (who === 'read key' && rule.need === 'write') return 'FORBIDDEN';
  return 'ok';
}
const HTTP_STATUS: Record<Outcome, number> = { ok: 200, UNAUTHENTICATED: 401, FORBIDDEN: 403, NOT_FOUND: 404 };

/** The world each cell runs in: project A (the keys' own), project B (another), their sessions. */
interface World {
  url: string;
  wsUrl: string;
  projectA: number;
  projectB: number;
  /** A session of A with a model, a step and a log (what reads find). */
  sessionA: number;
  sessionB: number;
  keys: Record<Who, string | undefined>;
  /** A new running session of A (writes change what they touch). */
  fresh(): Promise<number>;
  /** An admin request that makes an event (a step, a log, a session) once a subscription is live. */
  admin(path: string, body: unknown): Promise<Record<string, unknown>>;
  services: Services;
}

let stepIndex = 1;
const LOG = { ts: '2026-02-21T10:30:15.123456', level: 'INFO', msg: 'hello', module: 'm', lineno: 1, kind: 'console' };

/** One valid request per REST route, keyed `METHOD path`. */
const REST_SAMPLES: Record<string, (w: World) => Promise<{ path: string; body?: unknown }>> = {
  'GET /projects': async () => ({ path: '/projects' }),
  'POST /projects': async () => ({ path: '/projects', body: { name: 'made by a cell' } }),
  'GET /projects/:project_id': async (w) => ({ path: `/projects/${w.projectA}` }),
  'GET /projects/:project_id/sessions': async (w) => ({ path: `/projects/${w.projectA}/sessions` }),
  'POST /sessions/project/:project_id': async (w) => ({ path: `/sessions/project/${w.projectA}`, body: seedSession('cell') }),
  'GET /sessions/:session_id': async (w) => ({ path: `/sessions/${w.sessionA}` }),
  'POST /sessions/:session_id/model': async (w) => ({ path: `/sessions/${await w.fresh()}/model`, body: { architecture: { total_parameters: 10 }, hyperparameters: {} } }),
  'GET /sessions/:session_id/model': async (w) => ({ path: `/sessions/${w.sessionA}/model` }),
  'GET /sessions/:session_id/status': async (w) => ({ path: `/sessions/${w.sessionA}/status` }),
  'POST /sessions/:session_id/action': async (w) => ({ path: `/sessions/${await w.fresh()}/action`, body: { action: 'stop' } }),
  'POST /sessions/:session_id/step': async (w) => ({ path: `/sessions/${await w.fresh()}/step`, body: seedStep(0, 2.3, 2) }),
  'POST /sessions/:session_id/steps': async (w) => ({ path: `/sessions/${await w.fresh()}/steps`, body: [seedStep(0, 2.3, 2), seedStep(1, 2.2, 2)] }),
  'GET /sessions/:session_id/steps': async (w) => ({ path: `/sessions/${w.sessionA}/steps` }),
  'POST /sessions/:session_id/log': async (w) => ({ path: `/sessions/${await w.fresh()}/log`, body: LOG }),
  'GET /sessions/:session_id/logs': async (w) => ({ path: `/sessions/${w.sessionA}/logs` }),
  'GET /sessions/:session_id/diagnostics': async (w) => ({ path: `/sessions/${w.sessionA}/diagnostics` }),
  'GET /sessions/:session_id/remedies': async (w) => ({ path: `/sessions/${w.sessionA}/remedies` }),
  'POST /sessions/:session_id/remedies/:application_id/report': async (w) => {
    const a = await resumedWithRemedies(w);
    return { path: `/sessions/${a.session}/remedies/${a.application}/report`, body: { results: [{ kind: 'rollback', applied: true }] } };
  },
};

/** A new session of A resumed with a remedy (by the admin): what an observer reports on. */
async function resumedWithRemedies(w: World): Promise<{ session: number; application: number }> {
  const session = await w.fresh();
  await w.admin(`/sessions/${session}/action`, { action: 'pause' });
  await w.admin(`/sessions/${session}/action`, { action: 'resume', remedies: [{ kind: 'rollback', to_step: 0 }] });
  const [application] = (await w.services.remedies.list(session)).items;
  return { session, application: application!.id };
}

type GqlSample = (w: World) => Promise<{ query: string; variables?: Record<string, unknown> }>;

/** One valid operation per query and mutation field. */
const GQL_SAMPLES: Record<string, GqlSample> = {
  'Query.projects': async () => ({ query: '{ projects { id } }' }),
  'Query.project': async (w) => ({ query: 'query($id: Int!) { project(id: $id) { id sessions { id } } }', variables: { id: w.projectA } }),
  'Query.session': async (w) => ({ query: 'query($id: Int!) { session(id: $id) { id status steps { stepIndex } } }', variables: { id: w.sessionA } }),
  'Query.sessions': async () => ({ query: '{ sessions { nodes { id projectId } } }' }),
  'Query.apiKeys': async () => ({ query: '{ apiKeys { id prefix scope } }' }),
  'Mutation.createProject': async () => ({ query: 'mutation { createProject(name: "cell") { id } }' }),
  'Mutation.createSession': async (w) => ({ query: 'mutation($p: Int!) { createSession(projectId: $p, input: { runName: "cell" }) { id } }', variables: { p: w.projectA } }),
  'Mutation.registerModel': async (w) => ({
    query: 'mutation($s: Int!) { registerModel(sessionId: $s, input: { architecture: { total_parameters: 10 } }) { model { id } } }',
    variables: { s: await w.fresh() },
  }),
  'Mutation.sessionAction': async (w) => ({ query: 'mutation($s: Int!) { sessionAction(sessionId: $s, action: stop) { status } }', variables: { s: await w.fresh() } }),
  'Mutation.recordStep': async (w) => ({ query: 'mutation($s: Int!) { recordStep(sessionId: $s, input: { stepIndex: 0, loss: { trainMean: 1 } }) { created } }', variables: { s: await w.fresh() } }),
  'Mutation.recordSteps': async (w) => ({ query: 'mutation($s: Int!) { recordSteps(sessionId: $s, steps: [{ stepIndex: 0 }, { stepIndex: 1 }]) { created } }', variables: { s: await w.fresh() } }),
  'Mutation.pushLogs': async (w) => ({ query: 'mutation($s: Int!) { pushLogs(sessionId: $s, logs: [{ level: "INFO", msg: "hi" }]) { id } }', variables: { s: await w.fresh() } }),
  'Mutation.reportRemedies': async (w) => {
    const a = await resumedWithRemedies(w);
    return {
      query: 'mutation($s: Int!, $a: Int!) { reportRemedies(sessionId: $s, applicationId: $a, results: [{ kind: rollback, applied: true }]) { id } }',
      variables: { s: a.session, a: a.application },
    };
  },
  'Mutation.createApiKey': async (w) => ({ query: 'mutation($p: Int) { createApiKey(projectId: $p, scope: read) { secret } }', variables: { p: w.projectA } }),
  'Mutation.revokeApiKey': async (w) => ({ query: 'mutation($id: Int!) { revokeApiKey(id: $id) { revokedAt } }', variables: { id: (await createKey(w.url, w.projectA, 'read')).id } }),
};

/** One subscription per field: the operation, the admin request that makes its event, and which events count. */
const SUB_SAMPLES: Record<string, (w: World) => { query: string; variables: Record<string, unknown>; topic: 'sessionStatus' | 'sessionSteps' | 'sessionLogs' | 'sessionCreated'; id: number; trigger?: () => Promise<void>; accept?: (d: Record<string, unknown>) => boolean }> = {
  'Subscription.sessionStatus': (w) => ({ query: 'subscription($s: Int!) { sessionStatus(sessionId: $s) { status } }', variables: { s: w.sessionA }, topic: 'sessionStatus', id: w.sessionA }),
  'Subscription.sessionSteps': (w) => ({
    query: 'subscription($s: Int!) { sessionSteps(sessionId: $s) { step { stepIndex } } }',
    variables: { s: w.sessionA },
    topic: 'sessionSteps',
    id: w.sessionA,
    trigger: async () => void (await w.admin(`/sessions/${w.sessionA}/step`, seedStep(stepIndex++, 2.3, 2))),
  }),
  'Subscription.sessionLogs': (w) => ({
    query: 'subscription($s: Int!) { sessionLogs(sessionId: $s) { log { msg } } }',
    variables: { s: w.sessionA },
    topic: 'sessionLogs',
    id: w.sessionA,
    trigger: async () => void (await w.admin(`/sessions/${w.sessionA}/log`, LOG)),
  }),
  // A session of A, then one of B: a key sees the first it may see, and another project's key must not see A's.
  'Subscription.sessionCreated': (w) => ({
    query: 'subscription { sessionCreated { id projectId } }',
    variables: {},
    topic: 'sessionCreated',
    id: 0,
    trigger: async () => {
      await w.admin(`/sessions/project/${w.projectA}`, seedSession('announced'));
      await w.admin(`/sessions/project/${w.projectB}`, seedSession('announced'));
    },
  }),
};

const routes = restRoutes({} as Services).map(routeKey);
const roots = (['Query', 'Mutation', 'Subscription'] as const).flatMap((t) =>
  Object.keys((schema.getType(t) as GraphQLObjectType).getFields()).map((f) => ({ type: t, field: f, key: `${t}.${f}` })),
);

let w: World;
beforeAll(async () => {
  const s = await startTestServer({ auth: 'required', adminToken: ADMIN_TOKEN });
  const admin = async (path: string, body: unknown) => {
    const res = await fetch(`${s.url}${path}`, { method: 'POST', headers: bearer(ADMIN_TOKEN), body: JSON.stringify(body) });
    if (res.status !== 200) throw new Error(`admin POST ${path}: ${res.status} ${await res.text()}`);
    return (await res.json()) as Record<string, unknown>;
  };
  const projectA = (await admin('/projects', { name: 'A' })).id as number;
  const projectB = (await admin('/projects', { name: 'B' })).id as number;
  const sessionA = (await admin(`/sessions/project/${projectA}`, seedSession('a'))).id as number;
  const sessionB = (await admin(`/sessions/project/${projectB}`, seedSession('b'))).id as number;
  await admin(`/sessions/${sessionA}/model`, { architecture: { total_parameters: 10 }, hyperparameters: {} });
  await admin(`/sessions/${sessionA}/step`, seedStep(0, 2.3, 2));
  await admin(`/sessions/${sessionA}/log`, LOG);
  const revoked = await createKey(s.url, projectA, 'write');
  await revokeKey(s.url, revoked.id);
  w = {
    url: s.url,
    wsUrl: s.wsUrl,
    projectA,
    projectB,
    sessionA,
    sessionB,
    services: s.services,
    admin,
    fresh: async () => (await admin(`/sessions/project/${projectA}`, seedSession('fresh'))).id as number,
    keys: {
      'no key': undefined,
      'malformed key': 'obs_not-a-key',
      'revoked key': revoked.secret,
      "another project's key": (await createKey(s.url, projectB, 'write')).secret,
      'read key': (await createKey(s.url, projectA, 'read')).secret,
      'write key': (await createKey(s.url, projectA, 'write')).secret,
      'admin key': (await createKey(s.url, null, 'write')).secret,
      'admin token': ADMIN_TOKEN,
    },
  };
});
afterAll(disposeAll);

describe('the authorization matrix', () => {
  it('has a rule and a sample for every door', () => {
    expect(routes.filter((k) => !REST_RULES[k] || !REST_SAMPLES[k])).toEqual([]);
    expect(roots.filter((r) => !GRAPHQL_RULES[r.type][r.field] || !(GQL_SAMPLES[r.key] ?? SUB_SAMPLES[r.key]))).toEqual([]);
    expect(Object.keys(REST_RULES).sort()).toEqual([...routes].sort());
  });

  describe.each(routes)('REST %s', (key) => {
    it.each(WHO)('%s', async (who) => {
      const rule = REST_RULES[key]!;
      const want = expected(rule, who);
      const { path, body } = await REST_SAMPLES[key]!(w);
      const res = await fetch(`${w.url}${path}`, { method: key.split(' ')[0], headers: bearer(w.keys[who]), ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
      const json = (await res.json()) as unknown;
      expect({ status: res.status, code: want === 'ok' ? undefined : (json as { code?: string }).code }).toEqual({ status: HTTP_STATUS[want], code: want === 'ok' ? undefined : want });
      if (want === 'UNAUTHENTICATED') expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
      // A list answered to another project's key holds nothing of project A.
      if (who === "another project's key" && want === 'ok') expect(JSON.stringify(json)).not.toMatch(new RegExp(`"(id|project_id)":${w.projectA}[,}]`));
    });
  });

  describe.each(roots.filter((r) => r.type !== 'Subscription').map((r) => r.key))('GraphQL %s', (key) => {
    it.each(WHO)('%s', async (who) => {
      const [type, field] = key.split('.') as ['Query' | 'Mutation', string];
      const want = expected(GRAPHQL_RULES[type][field]!, who);
      const { query, variables } = await GQL_SAMPLES[key]!(w);
      const r = await gqlAs(w.url, w.keys[who], query, variables);
      expect({ status: r.status, codes: r.errors?.map((e) => e.extensions?.code) }).toEqual(
        want === 'ok' ? { status: 200, codes: undefined } : { status: want === 'UNAUTHENTICATED' ? 401 : 200, codes: [want] },
      );
      if (who === "another project's key" && want === 'ok') {
        const text = JSON.stringify(r.data);
        expect(text).not.toMatch(new RegExp(`"(id|projectId)":${w.projectA}[,}]`));
      }
    });
  });

  describe.each(roots.filter((r) => r.type === 'Subscription').map((r) => r.key))('graphql-ws %s', (key) => {
    it.each(WHO)('%s', async (who) => {
      const field = key.split('.')[1]!;
      const want = expected(GRAPHQL_RULES.Subscription[field]!, who);
      const sample = SUB_SAMPLES[key]!(w);
      // The previous cell's subscription may still be leaving: start from none.
      await waitUntil(() => w.services.pubsub.subscriberCount(sample.topic, sample.id) === 0, 'earlier subscriptions are gone');
      const key_ = w.keys[who];
      // Another project's key must skip A's new session and see B's.
      const accept = field === 'sessionCreated' && who === "another project's key" ? (d: Record<string, unknown>) => (d.sessionCreated as { projectId: number }).projectId === w.projectB : undefined;
      const outcome: WsOutcome = await subscribeOnce(w.wsUrl, key_ === undefined ? undefined : { apiKey: key_ }, sample.query, sample.variables, accept, async () => {
        if (want !== 'ok' || !sample.trigger) return;
        await waitUntil(() => w.services.pubsub.subscriberCount(sample.topic, sample.id) > 0, 'the subscription is live');
        await sample.trigger();
      });
      if (want === 'UNAUTHENTICATED') expect(outcome).toEqual({ kind: 'closed', code: 4403 });
      else if (want === 'ok') {
        expect(outcome.kind).toBe('data');
        if (accept) expect(outcome).toMatchObject({ data: { sessionCreated: { projectId: w.projectB } } });
      } else expect(outcome).toEqual({ kind: 'errors', codes: [want] });
    });
  });

  describe('the WebSocket handshake', () => {
    it.each(WHO)('%s', async (who) => {
      const want = expected({ need: 'read', on: { global: true } }, who) === 'UNAUTHENTICATED' ? 'closed 4403' : 'acknowledged';
      const key = w.keys[who];
      const outcome = await subscribeOnce(w.wsUrl, key === undefined ? undefined : { authorization: `Bearer ${key}` }, 'subscription($s: Int!) { sessionStatus(sessionId: $s) { status } }', { s: w.sessionB });
      const got = outcome.kind === 'closed' ? `closed ${outcome.code}` : 'acknowledged';
      expect(got).toBe(want);
    });
  });
});
