/**
 * One test per class of hostile or odd input found by the hardening review, with the review's
 * own examples, against the real server. The fuzz suite (fuzz.e2e.test.ts) generates thousands
 * more of each class; these keep the named cases readable.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { parseExtendedJson } from '../server/lib/extended-json.ts';
import { rawRequest } from './fuzz/raw-http.ts';
import { deepText } from './fuzz/values.ts';
import { disposeAll, gql, post, startTestServer, waitUntil } from './helpers/server.ts';

afterEach(disposeAll);

type Server = Awaited<ReturnType<typeof startTestServer>>;
const read = (text: string) => parseExtendedJson(text, Infinity) as Record<string, any>;
const get = async (s: Server, path: string) => {
  const r = await fetch(s.url + path);
  return { status: r.status, body: read(await r.text()) };
};

async function session(s: Server): Promise<number> {
  await post(`${s.url}/projects`, { name: 'p' });
  return read((await post(`${s.url}/sessions/project/1`, { run_name: 'r' })).text).id;
}

const status = async (s: Server, id: number) => JSON.parse(await (await fetch(`${s.url}/sessions/${id}/status`)).text()) as string;

describe('hardening: odd input gets a 4xx naming the problem', () => {
  it('bounds every page size: 0 and negative limits are 422 / VALIDATION_FAILED over REST and GraphQL, and so is one over the maximum', async () => {
    const s = await startTestServer();
    const id = await session(s);
    for (const path of [`/sessions/${id}/steps?limit=0`, `/sessions/${id}/steps?limit=-1`, `/sessions/${id}/logs?limit=0`, `/sessions/${id}/diagnostics?limit=-5`, `/sessions/${id}/steps?limit=10001`, '/projects?limit=0']) {
      const r = await get(s, path);
      expect(r.status, path).toBe(422);
      expect(r.body.detail, path).toMatch(/must be an integer from 1 to \d+/);
    }
    for (const field of ['steps(first: 0) { id }', 'steps(first: -1) { id }', 'steps(last: -3) { id }', 'logs(first: 0) { id }', 'diagnostics(first: -1) { id }', 'series(first: 0) { stepIndex }']) {
      const r = await gql(s.url, `{ session(id: ${id}) { ${field} } }`);
      expect(r.errors?.[0]?.extensions?.code, field).toBe('VALIDATION_FAILED');
    }
    expect((await gql(s.url, '{ sessions(first: 0) { nodes { id } } }')).errors?.[0]?.extensions?.code).toBe('VALIDATION_FAILED');
    expect((await gql(s.url, '{ projects { sessions(first: 1001) { id } } }')).errors?.[0]?.extensions?.code).toBe('VALIDATION_FAILED');
  });

  it('filters sessions by status in the query, so a page is full when more match', async () => {
    const s = await startTestServer();
    await post(`${s.url}/projects`, { name: 'p' });
    const ids: number[] = [];
    for (let i = 0; i < 7; i++) ids.push(read((await post(`${s.url}/sessions/project/1`, { run_name: `r${i}` })).text).id);
    // Stop the older ones: the newest two are running, so a page taken before filtering would be empty.
    for (const id of ids.slice(0, 5)) await post(`${s.url}/sessions/${id}/action`, { action: 'stop' });
    const q = 'query($after: Int) { sessions(status: stopped, first: 2, after: $after) { nodes { id status } pageInfo { hasNextPage endCursor } } }';
    const first = (await gql<{ sessions: { nodes: { id: number; status: string }[]; pageInfo: { hasNextPage: boolean; endCursor: number } } }>(s.url, q)).data!.sessions;
    expect(first.nodes.map((n) => n.id)).toEqual([ids[4], ids[3]]);
    expect(first.pageInfo.hasNextPage).toBe(true);
    const second = (await gql<{ sessions: { nodes: { id: number }[] } }>(s.url, q, { after: first.pageInfo.endCursor })).data!.sessions;
    expect(second.nodes.map((n) => n.id)).toEqual([ids[2], ids[1]]);
  });

  it('answers broken percent-encoding in a path id with 400 and a malformed Host header with 400, /health included', async () => {
    const s = await startTestServer();
    for (const target of ['/projects/%E0%A4%A', '/projects/%', '/projects/%ZZ', '/sessions/%ZZ/steps']) {
      const r = await rawRequest(s.port, { method: 'GET', target, headers: [['Host', '127.0.0.1']] });
      expect(r.status, target).toBe(400);
      expect(r.body, target).toContain('not valid percent-encoding');
    }
    for (const host of ['[', 'a b']) {
      const r = await rawRequest(s.port, { method: 'GET', target: '/health', headers: [['Host', host]] });
      expect(r.status, host).toBe(400);
      expect(r.body).toContain('Malformed Host header');
    }
    // Only the origin form is served: '//host/path' is a path here, never a host.
    for (const target of ['//[', '//x:99999/', '//%zz/', 'http://evil.example.com/projects', '*']) {
      const r = await rawRequest(s.port, { method: 'GET', target, headers: [['Host', '127.0.0.1']] });
      expect(r.status, target).toBeGreaterThanOrEqual(400);
      expect(r.status, target).toBeLessThan(500);
    }
    expect((await rawRequest(s.port, { method: 'GET', target: '//evil.example.com/projects', headers: [['Host', '127.0.0.1']] })).status).toBe(404);
    // An empty Host is allowed (a request without an authority) and answers normally.
    expect((await rawRequest(s.port, { method: 'GET', target: '/health', headers: [['Host', '']] })).status).toBe(200);
    const big = await get(s, '/sessions/2147483648');
    expect(big.status).toBe(422);
    expect(big.body.detail).toContain('between -2147483648 and 2147483647');
  });

  it('refuses JSON nested 10,000 deep in a step, a config or an architecture with 422, and keeps what was stored', async () => {
    const s = await startTestServer();
    const id = await session(s);
    expect((await post(`${s.url}/sessions/${id}/step`, '{"step_index": 0, "loss": {"train_mean": 1.5}}')).status).toBe(200);
    const deep = deepText(10_000);
    for (const [path, body] of [
      [`/sessions/${id}/step`, `{"step_index": 1, "profiler": ${deep}}`],
      ['/sessions/project/1', `{"run_name": "x", "config": ${deep}}`],
      [`/sessions/${id}/model`, `{"architecture": ${deep}}`],
      [`/sessions/${id}/step`, `{"step_index": 1, "profiler": ${deepText(70)}, "loss": {"train_mean": NaN}}`],
    ] as const) {
      const r = await post(s.url + path, body);
      expect(r.status, path).toBe(422);
      expect(read(r.text).detail, path).toMatch(/nested deeper than 64 levels/);
    }
    const steps = (await get(s, `/sessions/${id}/steps`)).body;
    expect(steps.items.map((x: { step_index: number }) => x.step_index)).toEqual([0]);
    // 64 levels in all is accepted.
    expect((await post(`${s.url}/sessions/${id}/step`, `{"step_index": 2, "profiler": ${deepText(62)}}`)).status).toBe(200);
  });

  it('refuses GraphQL documents, JSON literals and variables nested thousands deep before executing them', async () => {
    const s = await startTestServer();
    await session(s);
    const selection = `{ ${'project(id: 1) { sessions { project { '.repeat(1000)}id${' } } }'.repeat(1000)} }`;
    const r1 = await gql(s.url, selection);
    expect(r1.status).toBe(400);
    expect(r1.errors?.[0]?.extensions?.code).toBe('QUERY_TOO_DEEP');
    const literal = `mutation { registerModel(sessionId: 1, input: { architecture: ${'{a: '.repeat(3000)}1${'}'.repeat(3000)} }) { model { id } } }`;
    expect((await gql(s.url, literal)).errors?.[0]?.extensions?.code).toBe('QUERY_TOO_DEEP');
    const res = await fetch(`${s.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: `{"query": "mutation($a: JSON) { registerModel(sessionId: 1, input: { architecture: $a }) { model { id } } }", "variables": {"a": ${deepText(10_000)}}}`,
    });
    const body = (await res.json()) as { errors: { message: string; extensions: { code: string } }[] };
    expect(body.errors[0]!.extensions.code).toBe('BAD_USER_INPUT');
    expect(body.errors[0]!.message).toMatch(/nested deeper than 64 levels/);
  });

  it('bounds list-valued arguments: 1,000 log levels are a 422, not a database error', async () => {
    const s = await startTestServer();
    const id = await session(s);
    const levels = Array.from({ length: 1000 }, (_, i) => `L${i}`).join(',');
    const r = await get(s, `/sessions/${id}/logs?level=${levels}`);
    expect(r.status).toBe(422);
    expect(r.body.detail).toContain('level takes at most 20 values');
    const g = await gql(s.url, `{ session(id: ${id}) { logs(levels: [${Array.from({ length: 100 }, () => '"INFO"').join(',')}, "x", "y", ${Array.from({ length: 30 }, (_, i) => `"L${i}"`).join(',')}]) { id } } }`);
    expect(g.errors?.[0]?.extensions?.code).toBe('VALIDATION_FAILED');
  });

  it('answers GraphQL over GET with variables that are not JSON with 400 BAD_REQUEST', async () => {
    const s = await startTestServer();
    const r = await fetch(`${s.url}/graphql?query=${encodeURIComponent('query($id: Int!) { project(id: $id) { id } }')}&variables=${encodeURIComponent('{bad')}`, { headers: { accept: 'application/json' } });
    expect(r.status).toBe(400);
    const body = (await r.json()) as { errors: { message: string; extensions: { code: string } }[] };
    expect(body.errors[0]!.extensions.code).toBe('BAD_REQUEST');
    expect(body.errors[0]!.message).toContain('not valid JSON');
  });

  it('refuses integers GraphQL cannot return (a lineno of 2^31, num_batches of 1e300), and returns the largest it accepts', async () => {
    const s = await startTestServer();
    const id = await session(s);
    const badLog = await post(`${s.url}/sessions/${id}/log`, { msg: 'x', lineno: 2147483648 });
    expect(badLog.status).toBe(422);
    expect(read(badLog.text).detail).toContain('lineno');
    const badStep = await post(`${s.url}/sessions/${id}/step`, '{"step_index": 0, "loss": {"train_mean": 1.0, "num_batches": 1e300}}');
    expect(badStep.status).toBe(422);
    expect(read(badStep.text).detail).toContain('num_batches');
    expect((await post(`${s.url}/sessions/${id}/log`, { msg: 'x', lineno: 2147483647 })).status).toBe(200);
    expect((await post(`${s.url}/sessions/${id}/step`, '{"step_index": 2147483647, "loss": {"train_mean": 1.0, "num_batches": 2147483647}}')).status).toBe(200);
    const g = await gql<{ session: { logs: { lineno: number }[]; steps: { loss: { numBatches: number } }[] } }>(s.url, `{ session(id: ${id}) { logs { lineno } steps { loss { numBatches } } } }`);
    expect(g.errors).toBeUndefined();
    expect(g.data!.session.logs[0]!.lineno).toBe(2147483647);
    expect(g.data!.session.steps[0]!.loss.numBatches).toBe(2147483647);
  });

  it('reads back the internal non-finite marker as the string a client sent, everywhere, and refuses a __proto__ key', async () => {
    const s = await startTestServer();
    const marker = '\u0000nonfinite:NaN';
    const project = await post(`${s.url}/projects`, { name: marker });
    expect(project.status).toBe(200);
    expect(read(project.text).name).toBe(marker);
    const created = read((await post(`${s.url}/sessions/project/1`, { run_name: 'r', tag: marker, metadata: { also: '\u0000\u0000x' } })).text);
    const step = await post(`${s.url}/sessions/${created.id}/step`, `{"step_index": 0, "note": ${JSON.stringify(marker)}, "loss": {"train_mean": NaN}}`);
    expect(step.status).toBe(200);
    const log = await post(`${s.url}/sessions/${created.id}/log`, { msg: marker });
    expect(log.status).toBe(200);
    const stored = (await get(s, `/sessions/${created.id}/steps`)).body.items[0];
    expect(stored.note).toBe(marker);
    expect(stored.loss.train_mean).toBeNaN();
    expect((await get(s, `/sessions/${created.id}`)).body.metadata).toEqual({ also: '\u0000\u0000x', tag: marker });
    expect((await get(s, `/sessions/${created.id}/logs`)).body.items[0].msg).toBe(marker);
    const g = await gql<{ session: { metadata: Record<string, string>; steps: { record: Record<string, unknown> }[] }; project: { name: string } }>(
      s.url,
      `{ project(id: 1) { name } session(id: ${created.id}) { metadata steps { record } } }`,
    );
    expect(g.data!.project.name).toBe(marker);
    expect(g.data!.session.metadata.tag).toBe(marker);
    expect(g.data!.session.steps[0]!.record.note).toBe(marker);

    for (const body of ['{"step_index": 1, "__proto__": {"x": 1}}', '{"step_index": 1, "loss": {"train_mean": NaN}, "custom": {"__proto__": {"a": 1}}}']) {
      const proto = await post(`${s.url}/sessions/${created.id}/step`, body);
      expect(proto.status, body).toBe(422);
      expect(read(proto.text).detail).toContain('__proto__');
    }
    const viaGraphQL = await gql(s.url, `mutation { recordStep(sessionId: ${created.id}, input: { stepIndex: 1, extra: { loss: 1 } }) { created } }`);
    expect(viaGraphQL.errors?.[0]?.extensions?.code).toBe('VALIDATION_FAILED');
    expect(viaGraphQL.errors?.[0]?.message).toContain('extra.loss');
  });

  it('names a non-finite validation metric and warns without pausing when it is not a loss', async () => {
    const s = await startTestServer();
    const id = await session(s);
    for (let i = 0; i < 3; i++) expect((await post(`${s.url}/sessions/${id}/step`, `{"step_index": ${i}, "loss": {"train_mean": ${2 - i * 0.1}, "val": {"val_loss": 1.9, "val_accuracy": NaN}}}`)).status).toBe(200);
    await s.services.diagnostics.idle();
    expect(await status(s, id)).toBe('running');
    const runs = (await get(s, `/sessions/${id}/diagnostics`)).body.items as { issues: { code: string; severity: string; title: string }[] }[];
    const issue = runs.flatMap((r) => r.issues).find((i) => i.code === 'loss.non_finite_metric');
    expect(issue).toMatchObject({ severity: 'warning' });
    expect(issue!.title).toContain('val_accuracy');
    // A non-finite validation loss is still critical.
    await post(`${s.url}/sessions/${id}/step`, '{"step_index": 3, "loss": {"train_mean": 1.6, "val": {"val_loss": NaN}}}');
    await waitUntil(async () => (await status(s, id)) === 'pending', 'a NaN validation loss pauses');
  });

  it('pauses on three warnings on one layer in one run, as the seed says (a layer dead, with vanishing gradients and 99% zero weights)', async () => {
    const s = await startTestServer();
    const id = await session(s);
    const healthy = { activation_mean: 0.4, activation_std: 0.3, gradient_norm_mean: 0.01, weight_sparsity: 0.01, is_dead: false, has_vanishing_gradients: false };
    const dead = { activation_mean: 0, activation_std: 0, gradient_norm_mean: 1e-9, weight_sparsity: 0.99, is_dead: true, has_vanishing_gradients: true };
    for (let i = 0; i < 3 && (await status(s, id)) !== 'pending'; i++) {
      await post(`${s.url}/sessions/${id}/step`, { step_index: i, loss: { train_mean: 2.3 }, layer_health: { layers: { dense_1: dead, out: healthy } } });
      await s.services.diagnostics.idle();
    }
    expect(await status(s, id)).toBe('pending');
    const latest = (await get(s, `/sessions/${id}/diagnostics?limit=1`)).body.items[0] as { issues: { severity: string; layer_id: string }[] };
    expect(latest.issues.filter((i) => i.severity === 'warning' && i.layer_id === 'dense_1').length).toBeGreaterThanOrEqual(3);
  });

  it('answers CORS preflights on REST as GraphQL does: allowed origins get the headers, others none', async () => {
    const s = await startTestServer({ corsOrigins: ['https://lab.example.org'] });
    for (const path of ['/projects', '/graphql']) {
      for (const origin of ['http://localhost:5173', 'https://lab.example.org']) {
        const r = await fetch(s.url + path, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' } });
        expect(r.status, `${path} ${origin}`).toBeLessThan(300);
        expect(r.headers.get('access-control-allow-origin'), `${path} ${origin}`).toBe(origin);
        expect(r.headers.get('access-control-allow-methods'), path).toContain('POST');
      }
      const foreign = await fetch(s.url + path, { method: 'OPTIONS', headers: { origin: 'https://evil.example.com', 'access-control-request-method': 'POST' } });
      expect(foreign.headers.get('access-control-allow-origin'), path).toBeNull();
    }
    const simple = await fetch(`${s.url}/projects`, { headers: { origin: 'https://lab.example.org' } });
    expect(simple.headers.get('access-control-allow-origin')).toBe('https://lab.example.org');
  });
});
