import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseExtendedJson, stringifyExtendedJson } from '../server/lib/extended-json.ts';
import { rawRequest } from './fuzz/raw-http.ts';
import { seedSession, seedStep } from './helpers/payloads.ts';
import { disposeAll, post, startTestServer, tempDir, waitUntil } from './helpers/server.ts';

afterEach(disposeAll);

/** Python's json.dumps output for a value (bare NaN/Infinity). */
const py = (v: unknown) => stringifyExtendedJson(v);
const read = (text: string) => parseExtendedJson(text) as Record<string, any>;

async function status(url: string, id: number): Promise<string> {
  return JSON.parse(await (await fetch(`${url}/sessions/${id}/status`)).text());
}

describe('legacy REST contract, as the seed Python Observer speaks it', () => {
  it('runs a session: create, model, steps, logs, NaN pauses it, resume, then stop', async () => {
    const s = await startTestServer();
    const project = read((await post(`${s.url}/projects`, { name: 'My Language Model Project' })).text);
    expect(project).toMatchObject({ id: 1, name: 'My Language Model Project' });
    expect(read(await (await fetch(`${s.url}/projects`)).text())).toEqual([project]);

    const created = await post(`${s.url}/sessions/project/${project.id}`, py(seedSession('my_experiment')));
    expect(created.status).toBe(200);
    const session = read(created.text);
    expect(session).toMatchObject({ id: 1, project_id: 1, run_id: '1_my_experiment', run_name: 'my_experiment', status: 'running', device: 'NVIDIA GeForce RTX 4090', cuda_available: true });

    const model = await post(`${s.url}/sessions/${session.id}/model`, {
      architecture: { total_parameters: 1500, layers: { fc: { type: 'Linear', parameters: 1500, pct_of_total: 100 } } },
      hyperparameters: { learning_rate: 0.001, batch_size: 32 },
    });
    expect(model.status).toBe(200);
    expect(read(model.text)).toMatchObject({ session_id: 1, hyperparameters: { learning_rate: 0.001 } });

    const step0 = await post(`${s.url}/sessions/${session.id}/step`, py(seedStep(0)));
    expect(step0.status).toBe(200);
    expect(read(step0.text)).toMatchObject({ session_id: 1, step_index: 0, loss: { train_mean: 2.3, val: { val_loss: 2.35 } } });
    await waitUntil(async () => (await status(s.url, session.id)) === 'running', 'the healthy step is judged');

    const log = await post(`${s.url}/sessions/${session.id}/log`, { ts: '2026-02-21T10:30:15.123456', level: 'INFO', msg: '[observer] step=0 loss=2.3', module: 'observer', lineno: 123, kind: 'console' });
    expect(read(log.text)).toMatchObject({ level: 'INFO', msg: '[observer] step=0 loss=2.3', lineno: 123, kind: 'console' });

    const nanStep = seedStep(1, Number.NaN);
    const step1 = await post(`${s.url}/sessions/${session.id}/step`, py(nanStep));
    expect(step1.text).toContain('"train_mean":NaN');
    await waitUntil(async () => (await status(s.url, session.id)) === 'pending', 'the NaN loss pauses the session');

    const diagnostics = read(await (await fetch(`${s.url}/sessions/${session.id}/diagnostics`)).text());
    const nanIssue = diagnostics.items[0].issues.find((i: any) => i.code === 'loss.non_finite');
    expect(nanIssue).toMatchObject({ severity: 'critical', category: 'loss', epoch_index: 1, confidence: 1 });
    expect(Number.isNaN(nanIssue.metric_value.train_mean)).toBe(true);

    const refused = await post(`${s.url}/sessions/${session.id}/step`, py(seedStep(2)));
    expect(refused).toEqual({ status: 400, text: expect.stringContaining('"detail":"Session is not running"') });

    const resumed = await post(`${s.url}/sessions/${session.id}/action`, { action: 'resume' });
    expect(read(resumed.text).status).toBe('running');
    expect((await post(`${s.url}/sessions/${session.id}/step`, py(seedStep(2)))).status).toBe(200);
    await waitUntil(async () => (await status(s.url, session.id)) === 'running', 'the next healthy step is judged');

    const stopped = await post(`${s.url}/sessions/${session.id}/action`, { action: 'stop' });
    expect(read(stopped.text)).toMatchObject({ status: 'stopped', ended_at: expect.any(String) });
    expect(await status(s.url, session.id)).toBe('stopped');
    expect((await post(`${s.url}/sessions/${session.id}/step`, py(seedStep(3)))).status).toBe(400);

    const steps = read(await (await fetch(`${s.url}/sessions/${session.id}/steps`)).text());
    expect(steps.items.map((x: any) => x.step_index)).toEqual([0, 1, 2]);
    expect(Number.isNaN(steps.items[1].loss.train_mean)).toBe(true);
    expect(steps.items[0].layer_health.layers['blocks.23.ffn.fc1'].activation_mean).toBe(0.5);
  });

  it('answers a resent step index with the stored step and never stores it twice', async () => {
    const s = await startTestServer();
    await post(`${s.url}/projects`, { name: 'p' });
    await post(`${s.url}/sessions/project/1`, seedSession('retry'));
    const first = read((await post(`${s.url}/sessions/1/step`, seedStep(0, 2.0))).text);
    const again = await post(`${s.url}/sessions/1/step`, seedStep(0, 9.9));
    expect(again.status).toBe(200);
    expect(read(again.text)).toMatchObject({ id: first.id, loss: { train_mean: 2.0 } });
    expect(await s.db.trainStep.count()).toBe(1);
  });

  it('keeps Infinity and -Infinity as they are', async () => {
    const s = await startTestServer();
    await post(`${s.url}/projects`, { name: 'p' });
    await post(`${s.url}/sessions/project/1`, seedSession('inf'));
    await post(`${s.url}/sessions/1/step`, '{"step_index": 0, "loss": {"train_mean": Infinity, "train_min": -Infinity}}');
    const steps = read(await (await fetch(`${s.url}/sessions/1/steps`)).text());
    expect(steps.items[0].loss).toEqual({ train_mean: Infinity, train_min: -Infinity });
  });

  describe('bad input gets a clear 4xx and loses nothing', () => {
    it.each([
      ['invalid JSON', '/sessions/1/step', '{"step_index": 0,', 400, 'not valid JSON'],
      ['an empty body', '/projects', '', 400, 'empty'],
      ['a missing field', '/sessions/1/step', '{"loss": {}}', 422, 'step_index'],
      ['a wrong type', '/sessions/1/step', '{"step_index": "zero"}', 422, 'step_index'],
      ['a negative step index', '/sessions/1/step', '{"step_index": -1}', 422, 'step_index'],
      ['a loss that is not a number', '/sessions/1/step', '{"step_index": 5, "loss": {"train_mean": "low"}}', 422, 'loss.train_mean'],
      ['an unknown session', '/sessions/999/step', '{"step_index": 0}', 404, 'Session 999 not found'],
      ['an unknown project', '/sessions/project/999', '{}', 404, 'Project 999 not found'],
      ['a non-integer id', '/sessions/abc/step', '{"step_index": 0}', 422, 'session_id must be an integer'],
      ['an unknown action', '/sessions/1/action', '{"action": "explode"}', 422, 'expected one of pause, resume, stop, complete, fail'],
      ['an action not allowed now', '/sessions/1/action', '{"action": "resume"}', 409, "'resume' is allowed only from pending or paused"],
      ['an empty project name', '/projects', '{"name": ""}', 422, 'name'],
      ['a log without a message', '/sessions/1/log', '{"level": "INFO"}', 422, 'msg'],
      ['a body that is a list', '/sessions/1/model', '[1, 2]', 422, 'expected a JSON object'],
    ])('%s', async (_what, path, body, code, detail) => {
      const s = await startTestServer();
      await post(`${s.url}/projects`, { name: 'p' });
      await post(`${s.url}/sessions/project/1`, seedSession('x'));
      await post(`${s.url}/sessions/1/step`, seedStep(0));
      const r = await post(`${s.url}${path}`, body);
      expect(r.status).toBe(code);
      expect(JSON.parse(r.text).detail).toContain(detail);
      expect(await s.db.trainStep.count()).toBe(1);
    });

    it('refuses a body over the size limit with 413', async () => {
      const s = await startTestServer({ maxBodyBytes: 10_000 });
      await post(`${s.url}/projects`, { name: 'p' });
      await post(`${s.url}/sessions/project/1`, seedSession('x'));
      const r = await post(`${s.url}/sessions/1/step`, { step_index: 0, pad: 'x'.repeat(20_000) });
      expect(r.status).toBe(413);
      expect(JSON.parse(r.text).detail).toContain('larger than the limit of 10000 bytes');
      expect((await fetch(`${s.url}/health`)).status).toBe(200);
    });

    it('answers unknown paths and methods like FastAPI', async () => {
      const s = await startTestServer();
      expect((await fetch(`${s.url}/nope`)).status).toBe(404);
      const r = await fetch(`${s.url}/projects`, { method: 'DELETE' });
      expect(r.status).toBe(405);
      expect(await r.json()).toMatchObject({ detail: 'Method Not Allowed' });
    });
  });

  it('refuses writes from pages of other websites and allows localhost pages', async () => {
    const s = await startTestServer();
    const evil = await post(`${s.url}/projects`, '{"name": "x"}', { 'content-type': 'text/plain', origin: 'https://evil.example.com' });
    expect(evil.status).toBe(403);
    expect(await s.db.project.count()).toBe(0);
    const local = await post(`${s.url}/projects`, '{"name": "x"}', { 'content-type': 'application/json', origin: 'http://localhost:5173' });
    expect(local.status).toBe(200);
    const preflight = await fetch(`${s.url}/graphql`, { method: 'OPTIONS', headers: { origin: 'http://localhost:5173', 'access-control-request-method': 'POST' } });
    expect(preflight.headers.get('access-control-allow-origin')).toBe('http://localhost:5173');
    const foreign = await fetch(`${s.url}/graphql`, { method: 'OPTIONS', headers: { origin: 'https://evil.example.com', 'access-control-request-method': 'POST' } });
    expect(foreign.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('serves the built web app from WEB_ROOT, with index.html for client routes and nothing outside it', async () => {
    const parent = tempDir();
    const root = path.join(parent, 'web');
    mkdirSync(root);
    // A file beside the web root: a path that climbs out of the root must never reach it.
    writeFileSync(path.join(parent, 'secret.txt'), 'TOP-SECRET');
    writeFileSync(path.join(root, 'index.html'), '<!doctype html><title>app</title>');
    mkdirSync(path.join(root, 'assets'));
    writeFileSync(path.join(root, 'assets', 'main-abcdef12.js'), 'console.log(1)');
    const s = await startTestServer({ webRoot: root });
    const index = await fetch(`${s.url}/`);
    expect(await index.text()).toContain('<title>app</title>');
    const js = await fetch(`${s.url}/assets/main-abcdef12.js`);
    expect(js.headers.get('content-type')).toContain('text/javascript');
    expect(js.headers.get('cache-control')).toContain('immutable');
    expect(await (await fetch(`${s.url}/app/runs`)).text()).toContain('<title>app</title>');
    // Raw bytes on a socket: an HTTP client library would normalise these paths before sending them.
    for (const target of ['/../secret.txt', '/../../etc/passwd', '/..%2fsecret.txt', '/%2e%2e/secret.txt', '/assets/../../secret.txt', '/assets/%2e%2e%2f%2e%2e%2fsecret.txt', '/..%5csecret.txt', '/%2e%2e%5csecret.txt', '/%00', '/index.html%00']) {
      const res = await rawRequest(s.port, { method: 'GET', target, headers: [['Host', '127.0.0.1']] });
      expect(res.status, target).toBeGreaterThanOrEqual(200);
      expect(res.status, target).toBeLessThan(500);
      expect(res.body, target).not.toContain('TOP-SECRET');
      expect(res.body, target).not.toContain('root:');
    }
    expect((await fetch(`${s.url}/assets/missing.js`)).status).toBe(404);
    expect((await fetch(`${s.url}/projects`)).headers.get('content-type')).toBe('application/json');
  });

  it('reports health once the database is ready', async () => {
    const s = await startTestServer();
    const r = await fetch(`${s.url}/health`);
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({ status: 'ok', database: 'ok' });
  });
});
