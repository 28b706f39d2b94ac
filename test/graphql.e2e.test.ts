import { afterEach, describe, expect, it } from 'vitest';
import { disposeAll, gql, startTestServer, waitUntil } from './helpers/server.ts';

afterEach(disposeAll);

const STEP = `mutation Step($sessionId: Int!, $input: StepInput!) {
  recordStep(sessionId: $sessionId, input: $input) { created step { id stepIndex loss { trainMean trainMax } } }
}`;

async function setup(base: string) {
  const p = await gql<{ createProject: { id: number } }>(base, 'mutation { createProject(name: "gql") { id } }');
  const s = await gql<{ createSession: { id: number; runId: string; status: string } }>(
    base,
    'mutation($p: Int!) { createSession(projectId: $p, input: { runName: "web", metadata: { backend: "webgpu" } }) { id runId status } }',
    { p: p.data!.createProject.id },
  );
  return { projectId: p.data!.createProject.id, session: s.data!.createSession };
}

const statusOf = async (base: string, id: number) =>
  (await gql<{ session: { status: string } }>(base, 'query($id: Int!) { session(id: $id) { status } }', { id })).data!.session.status;

describe('GraphQL API over HTTP', () => {
  it('runs the same flow as REST: session, model, steps, NaN pauses, resume, stop', async () => {
    const s = await startTestServer();
    const { projectId, session } = await setup(s.url);
    expect(session).toMatchObject({ runId: `${projectId}_web`, status: 'running' });

    const model = await gql(s.url, 'mutation($id: Int!) { registerModel(sessionId: $id, input: { architecture: { total_parameters: 10 }, hyperparameters: { lr: 0.01 } }) { model { hyperparameters } diagnostics { healthScore } } }', { id: session.id });
    expect(model.data).toEqual({ registerModel: { model: { hyperparameters: { lr: 0.01 } }, diagnostics: { healthScore: 100 } } });

    const ok = await gql(s.url, STEP, { sessionId: session.id, input: { stepIndex: 0, loss: { trainMean: 2.3, trainMax: 2.5 }, memory: { num_tensors: 12 } } });
    expect(ok.data).toMatchObject({ recordStep: { created: true, step: { stepIndex: 0, loss: { trainMean: 2.3, trainMax: 2.5 } } } });
    await waitUntil(async () => (await statusOf(s.url, session.id)) === 'running', 'step 0 is judged');

    const nan = await gql(s.url, STEP, { sessionId: session.id, input: { stepIndex: 1, loss: { trainMean: 'NaN', trainMax: 'Infinity' } } });
    expect(nan.data).toMatchObject({ recordStep: { step: { loss: { trainMean: 'NaN', trainMax: 'Infinity' } } } });
    await waitUntil(async () => (await statusOf(s.url, session.id)) === 'pending', 'the NaN pauses the session');

    const diag = await gql<{ session: { latestDiagnostics: { healthScore: number; issues: { severity: string; title: string; confidence: number; metricValue: unknown }[] } } }>(
      s.url,
      'query($id: Int!) { session(id: $id) { latestDiagnostics { healthScore issues { severity title confidence metricValue } } } }',
      { id: session.id },
    );
    expect(diag.data!.session.latestDiagnostics.issues[0]).toEqual({ severity: 'critical', title: 'Loss is NaN', confidence: 1, metricValue: { train_mean: 'NaN' } });

    const refused = await gql(s.url, STEP, { sessionId: session.id, input: { stepIndex: 2, loss: { trainMean: 1 } } });
    expect(refused.errors?.[0]).toMatchObject({ message: 'Session is not running', extensions: { code: 'SESSION_NOT_RUNNING' } });

    const resume = await gql(s.url, 'mutation($id: Int!) { sessionAction(sessionId: $id, action: resume) { status } }', { id: session.id });
    expect(resume.data).toEqual({ sessionAction: { status: 'running' } });
    const stop = await gql(s.url, 'mutation($id: Int!) { sessionAction(sessionId: $id, action: stop) { status endedAt } }', { id: session.id });
    expect(stop.data).toMatchObject({ sessionAction: { status: 'stopped', endedAt: expect.any(String) } });

    const read = await gql<{ project: { sessions: { id: number; steps: { stepIndex: number; loss: { trainMean: unknown } }[] }[] } }>(
      s.url,
      'query($p: Int!) { project(id: $p) { sessions { id steps { stepIndex loss { trainMean } } } } }',
      { p: projectId },
    );
    expect(read.data!.project.sessions[0]!.steps).toEqual([
      { stepIndex: 0, loss: { trainMean: 2.3 } },
      { stepIndex: 1, loss: { trainMean: 'NaN' } },
    ]);
  });

  it('records a batch in one call and skips indexes already stored', async () => {
    const s = await startTestServer();
    const { session } = await setup(s.url);
    await gql(s.url, STEP, { sessionId: session.id, input: { stepIndex: 0, loss: { trainMean: 2 } } });
    const batch = await gql<{ recordSteps: { created: boolean; step: { stepIndex: number } }[] }>(
      s.url,
      'mutation($id: Int!, $steps: [StepInput!]!) { recordSteps(sessionId: $id, steps: $steps) { created step { stepIndex } } }',
      { id: session.id, steps: [0, 1, 2, 3].map((i) => ({ stepIndex: i, loss: { trainMean: 2 - i * 0.1 } })) },
    );
    expect(batch.data!.recordSteps.map((r) => r.created)).toEqual([false, true, true, true]);
    expect(await s.db.trainStep.count()).toBe(4);
  });

  it('gives a session\'s chart quantities as columns, NaN included, after a cursor', async () => {
    const s = await startTestServer();
    const { session } = await setup(s.url);
    const steps = [
      { stepIndex: 0, loss: { trainMean: 2.3, numBatches: 25 }, throughput: { samples_per_second: 100 }, memory: { num_tensors: 12 } },
      { stepIndex: 1, loss: { trainMean: 'NaN', val: { val_loss: 2.1, val_acc: 0.4 } }, throughput: { samples_per_second: 110 } },
      { stepIndex: 2, loss: { trainMean: 1.9, val: { val_loss: 1.8 } }, memory: { num_tensors: 12 } },
    ];
    await gql(s.url, 'mutation($id: Int!, $steps: [StepInput!]!) { recordSteps(sessionId: $id, steps: $steps) { created } }', { id: session.id, steps });
    const q = 'query($id: Int!, $after: Int) { session(id: $id) { series(after: $after) { stepIndex trainLoss samplesPerSecond numTensors numBatches val { name values } } } }';
    const all = await gql<{ session: { series: unknown } }>(s.url, q, { id: session.id });
    expect(all.errors).toBeUndefined();
    expect(all.data!.session.series).toEqual({
      stepIndex: [0, 1, 2],
      trainLoss: [2.3, 'NaN', 1.9],
      samplesPerSecond: [100, 110, null],
      numTensors: [12, null, 12],
      numBatches: [25, null, null],
      val: [
        { name: 'val_loss', values: [null, 2.1, 1.8] },
        { name: 'val_acc', values: [null, 0.4, null] },
      ],
    });
    const later = await gql<{ session: { series: { stepIndex: number[]; trainLoss: unknown[] } } }>(s.url, q, { id: session.id, after: 1 });
    expect(later.data!.session.series).toMatchObject({ stepIndex: [2], trainLoss: [1.9] });
  });

  it('pages through sessions newest first', async () => {
    const s = await startTestServer();
    const { projectId } = await setup(s.url);
    for (let i = 0; i < 4; i++) await gql(s.url, 'mutation($p: Int!) { createSession(projectId: $p) { id } }', { p: projectId });
    const q = 'query($after: Int) { sessions(first: 2, after: $after) { nodes { id } pageInfo { hasNextPage endCursor } } }';
    const page1 = await gql<{ sessions: { nodes: { id: number }[]; pageInfo: { hasNextPage: boolean; endCursor: number } } }>(s.url, q);
    expect(page1.data!.sessions.nodes.map((n) => n.id)).toEqual([5, 4]);
    const page3 = await gql<typeof page1.data>(s.url, q, { after: 2 });
    expect(page3.data!.sessions).toEqual({ nodes: [{ id: 1 }], pageInfo: { hasNextPage: false, endCursor: null } });
  });

  it('gives errors a code: unknown ids, bad values, bad actions', async () => {
    const s = await startTestServer();
    const missing = await gql(s.url, '{ session(id: 42) { id } }');
    expect(missing.errors?.[0]).toMatchObject({ message: 'Session 42 not found', extensions: { code: 'NOT_FOUND' } });
    const { session } = await setup(s.url);
    const badMetric = await gql(s.url, STEP, { sessionId: session.id, input: { stepIndex: 0, loss: { trainMean: 'low' } } });
    expect(badMetric.errors?.[0]?.message).toContain('Metric must be a number');
    const negative = await gql(s.url, STEP, { sessionId: session.id, input: { stepIndex: -3 } });
    expect(negative.errors?.[0]).toMatchObject({ extensions: { code: 'VALIDATION_FAILED' } });
    const conflict = await gql(s.url, 'mutation($id: Int!) { sessionAction(sessionId: $id, action: resume) { id } }', { id: session.id });
    expect(conflict.errors?.[0]).toMatchObject({ extensions: { code: 'CONFLICT' } });
    const unknownAction = await gql(s.url, 'mutation($id: Int!) { sessionAction(sessionId: $id, action: explode) { id } }', { id: session.id });
    expect(unknownAction.errors?.[0]?.message).toContain('explode');
  });

  it('limits query depth and cost but lets GraphiQL introspect', async () => {
    const s = await startTestServer({ maxQueryDepth: 5 });
    const deep = await gql(s.url, '{ projects { sessions { project { sessions { project { sessions { id } } } } } } }');
    expect(deep.errors?.[0]).toMatchObject({ extensions: { code: 'QUERY_TOO_DEEP' } });
    const aliases = Array.from({ length: 2100 }, (_, i) => `a${i}: projects { id }`).join(' ');
    const costly = await gql(s.url, `{ ${aliases} }`);
    expect(costly.errors?.[0]).toMatchObject({ extensions: { code: 'QUERY_TOO_COSTLY' } });
    const introspection = await fetch(`${s.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ __schema { types { name fields { name type { name ofType { name ofType { name ofType { name } } } } } } } }' }),
    });
    expect((await introspection.json()).data.__schema.types.length).toBeGreaterThan(20);
  });

  it('serves GraphiQL to a browser', async () => {
    const s = await startTestServer();
    const r = await fetch(`${s.url}/graphql`, { headers: { accept: 'text/html' } });
    expect(r.status).toBe(200);
    expect(await r.text()).toContain('GraphiQL');
  });

  it('refuses a GraphQL body over the size limit', async () => {
    const s = await startTestServer({ maxBodyBytes: 5000 });
    const r = await fetch(`${s.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: `{ projects { id } } # ${'x'.repeat(6000)}` }) });
    expect(r.status).toBe(413);
  });
});
