import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { createClient } from 'graphql-ws';
import type { Page } from 'playwright-core';
import WebSocket from 'ws';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Papa from 'papaparse';
import { parseExtendedJson, stringifyExtendedJson } from '../server/lib/extended-json.ts';
import { ARTIFACTS, hasChromium, launchChromium } from './helpers/browser.ts';
import { seedSession, seedStep } from './helpers/payloads.ts';
import type { StartOptions } from '../server/app.ts';
import { ADMIN_TOKEN, bearer, createKey, revokeKey } from './helpers/auth.ts';
import { disposeAll, gql, post, startTestServer, tempDir, waitUntil } from './helpers/server.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
let webRoot = '';

beforeAll(async () => {
  if (!hasChromium) return;
  await import('../scripts/build-data.ts');
  webRoot = tempDir();
  await build({ configFile: path.join(ROOT, 'vite.config.ts'), logLevel: 'warn', build: { outDir: webRoot, emptyOutDir: true } });
  mkdirSync(ARTIFACTS, { recursive: true });
}, 120_000);
afterAll(disposeAll);

async function withPage(
  run: (page: Page, base: string, server: Awaited<ReturnType<typeof startTestServer>>) => Promise<void>,
  shot: string,
  opts: { webgpu?: boolean; databaseUrl?: string; server?: StartOptions } = {},
) {
  const server = await startTestServer({ webRoot, ...(opts.databaseUrl ? { databaseUrl: opts.databaseUrl } : {}), ...opts.server });
  const browser = await launchChromium({ webgpu: opts.webgpu });
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.stack ?? String(e)));
  try {
    await run(page, server.url.replace('127.0.0.1', 'localhost'), server);
    expect(errors).toEqual([]);
  } finally {
    await page.screenshot({ path: path.join(ARTIFACTS, `${shot}.png`), fullPage: true }).catch(() => {});
    await browser.close();
  }
}

describe.runIf(hasChromium)('web app in Chromium', () => {
  it('trains the MLP on MNIST on webgpu: the loss chart gets points, a NaN pauses, Resume goes on, a second NaN and Stop end it', async () => {
    await withPage(async (page, base) => {
      await page.goto(`${base}/#/train`);
      await page.waitForFunction(() => document.querySelector('[data-testid=trainer-status]')?.textContent?.startsWith('Ready'), null, { timeout: 30_000 });
      await page.fill('[data-testid=steps]', '80');
      await page.fill('[data-testid=flush-every]', '10');
      await page.fill('[data-testid=nan-at]', '25, 55');
      await page.click('[data-testid=start]');
      await page.waitForSelector('[data-testid=pending-dialog]', { timeout: 120_000 });
      expect(await page.textContent('[data-testid=pending-dialog]')).toContain('Loss is NaN');
      // A NaN is a fact: the rule is sure of it.
      expect(await page.textContent('[data-testid=pending-dialog]')).toContain('100% sure');
      await page.screenshot({ path: path.join(ARTIFACTS, 'web-trainer-pending.png'), fullPage: true });
      await page.click('[data-testid=pending-dialog] >> text=Resume');
      await page.waitForFunction(() => !document.querySelector('[data-testid=pending-dialog]'));
      await page.waitForSelector('[data-testid=pending-dialog]', { timeout: 120_000 });
      await page.click('[data-testid=pending-dialog] >> text=Stop');
      await page.waitForFunction(() => document.querySelector('[data-testid=trainer-status]')?.textContent?.startsWith('Ended'), null, { timeout: 60_000 });
      expect(await page.textContent('[data-testid=trainer-status]')).toContain('stopped');
      expect(Number(await page.getAttribute('[data-testid="chart-Loss"]', 'data-points'))).toBeGreaterThanOrEqual(5);
      expect(Number(await page.getAttribute('[data-testid="chart-Loss"]', 'data-nonfinite'))).toBeGreaterThanOrEqual(1);
      expect(await page.textContent('[data-testid=status]')).toBe('stopped');
      await page.goto(`${base}/#/`);
      await page.waitForSelector('text=Web trainer');
      expect(await page.textContent('[data-testid=status]')).toBe('stopped');
    }, 'web-trainer');
  }, 240_000);

  it('offers the fix when a learning-rate spike pauses the trainer: roll back and lower the learning rate; it resumes with it, the loss returns under its level before the spike, and the charts mark it', async () => {
    await withPage(async (page, base, s) => {
      await page.goto(`${base}/#/train`);
      await page.waitForFunction(() => document.querySelector('[data-testid=trainer-status]')?.textContent?.startsWith('Ready'), null, { timeout: 30_000 });
      await page.fill('[data-testid=steps]', '160');
      await page.fill('[data-testid=flush-every]', '10');
      await page.fill('[data-testid=lr-spike-at]', '60');
      await page.click('[data-testid=start]');
      await page.waitForSelector('[data-testid=resume-with-fix]', { timeout: 180_000 });
      const fix = (await page.textContent('[data-testid=resume-with-fix]'))!.toLowerCase();
      expect(fix).toContain('roll back');
      expect(fix).toContain('learning rate');
      expect(await page.textContent('[data-testid=pending-fix]')).toMatch(/learning rate/i);
      await page.screenshot({ path: path.join(ARTIFACTS, 'web-trainer-fix-dialog.png'), fullPage: false });
      await page.click('[data-testid=resume-with-fix]');
      await page.waitForFunction(() => document.querySelector('[data-testid=trainer-status]')?.textContent?.startsWith('Ended'), null, { timeout: 180_000 });
      await page.waitForFunction(() => Number(document.querySelector('[data-testid="chart-Loss"]')?.getAttribute('data-markers')) >= 1, null, { timeout: 30_000 });
      expect(await page.textContent('[data-testid=remedies]')).toMatch(/Resumed with: Roll back/);
      // The observer's report reaches the timeline (it is read again until it is there).
      await page.waitForFunction(() => /rollback: applied/.test(document.querySelector('[data-testid=remedies]')?.textContent ?? ''), null, { timeout: 30_000 });
      // What the server stored: the resume's remedies, the observer's report, and the losses around them.
      const { data } = await gql<{ session: { remedies: { stepIndex: number; source: string; remedies: { kind: string }[]; report: { kind: string; applied: boolean }[] | null }[]; series: { stepIndex: number[]; trainLoss: (number | string | null)[] } } }>(
        s.url,
        '{ session(id: 1) { remedies { stepIndex source remedies { kind } report { kind applied } } series { stepIndex trainLoss } } }',
      );
      const [applied] = data!.session.remedies;
      expect(applied!.source).toBe('observer:prompt');
      expect(applied!.remedies.map((r) => r.kind)).toEqual(expect.arrayContaining(['rollback', 'scale_learning_rate']));
      await waitUntil(async () => (await gql<{ session: { remedies: { report: unknown }[] } }>(s.url, '{ session(id: 1) { remedies { report { kind applied } } } }')).data!.session.remedies[0]!.report !== null, 'the observer reports what it applied', 30_000);
      const losses = data!.session.series.stepIndex.map((step, i) => ({ step, loss: data!.session.series.trainLoss[i] }));
      // The trainer's step records are flushes (10 training steps each): the spike at training step 60 is in flush 6.
      const before = losses.filter((l) => l.step < 6 && typeof l.loss === 'number').at(-1)!.loss as number;
      expect(Math.max(...losses.filter((l) => l.step >= 6 && typeof l.loss === 'number').map((l) => l.loss as number))).toBeGreaterThan(2 * before);
      const last = losses.at(-1)!.loss;
      expect(typeof last).toBe('number');
      expect(last as number).toBeLessThan(before);
      await page.screenshot({ path: path.join(ARTIFACTS, 'web-trainer-fix-after.png'), fullPage: true });
    }, 'web-trainer-fix');
  }, 420_000);

  it('trains MiniGPT on Moby Dick on webgpu: the graph shows its residuals, Pause holds everywhere, Resume goes on; a model too big is refused', async () => {
    await withPage(async (page, base, s) => {
      await page.goto(`${base}/#/train`);
      await page.selectOption('[data-testid=model]', 'minigpt');
      await page.waitForFunction(() => document.querySelector('[data-testid=trainer-status]')?.textContent?.includes('Moby Dick loaded'), null, { timeout: 30_000 });
      // Small: SwiftShader's WebGPU runs on the CPU (the default size takes seconds a step there).
      await page.fill('[data-testid=steps]', '24');
      await page.fill('[data-testid=flush-every]', '4');
      await page.fill('[data-testid=model-size]', '32');
      await page.fill('[data-testid=batch-size]', '4');
      await page.fill('[data-testid=context]', '16');
      await page.click('[data-testid=start]');
      await page.waitForFunction(() => Number(document.querySelector('[data-testid="chart-Loss"]')?.getAttribute('data-points')) >= 2, null, { timeout: 120_000 });
      // token + position embeddings, their sum, 6 per block x 2, final norm, head; residuals included.
      expect(await page.getAttribute('[data-testid=layer-graph]', 'data-nodes')).toBe('17');
      expect(Number(await page.getAttribute('[data-testid=layer-graph]', 'data-edges'))).toBe(2 + 2 * 8 + 2);
      // Layer health from the model's probeLoss: gradient norms for each layer with weights.
      expect(await page.evaluate(() => document.querySelectorAll('.heatmap-labels > div').length)).toBe(12);
      await page.click('[data-testid=pause]');
      await page.waitForFunction(() => document.querySelector('[data-testid=status]')?.textContent === 'paused', null, { timeout: 30_000 });
      await page.waitForFunction(() => document.querySelector('[data-testid=progress]')?.textContent?.includes('paused'), null, { timeout: 30_000 });
      const held = await page.textContent('[data-testid=progress]');
      const { data } = await gql<{ session: { status: string } }>(s.url, '{ session(id: 1) { status } }');
      expect(data!.session.status).toBe('paused');
      await new Promise((r) => setTimeout(r, 1000));
      expect(await page.textContent('[data-testid=progress]')).toBe(held);
      await page.screenshot({ path: path.join(ARTIFACTS, 'web-minigpt-paused.png'), fullPage: true });
      await page.click('[data-testid=pause]');
      await page.waitForFunction(() => document.querySelector('[data-testid=trainer-status]')?.textContent?.startsWith('Ended'), null, { timeout: 180_000 });
      expect(await page.textContent('[data-testid=trainer-status]')).toContain('finished');
      expect(await page.textContent('[data-testid=status]')).toBe('completed');
      const points = Number(await page.getAttribute('[data-testid="chart-Loss"]', 'data-points'));
      expect(points).toBe(6);
      // A model that cannot fit is refused before anything is allocated, and no session starts.
      await page.fill('[data-testid=model-size]', '100000');
      await page.click('[data-testid=start]');
      await page.waitForSelector('[data-testid=too-big]', { timeout: 30_000 });
      expect(await page.textContent('[data-testid=too-big]')).toMatch(/does not fit .* largest tensor needs [\d.]+ GiB/);
      await page.screenshot({ path: path.join(ARTIFACTS, 'web-minigpt-too-big.png'), fullPage: true });
      const after = await gql<{ sessions: { nodes: { id: number }[] } }>(s.url, '{ sessions { nodes { id } } }');
      expect(after.data!.sessions.nodes).toHaveLength(1);
    }, 'web-minigpt');
  }, 300_000);

  it('without WebGPU says why it fell back; with the server gone it keeps training, says so, and delivers everything when it is back', async () => {
    const databaseUrl = `file:${path.join(tempDir(), 'app.db')}`;
    await withPage(
      async (page, base, first) => {
        await page.goto(`${base}/#/train`);
        await page.waitForFunction(() => document.querySelector('[data-testid=trainer-status]')?.textContent?.startsWith('Ready'), null, { timeout: 30_000 });
        await page.fill('[data-testid=steps]', '300');
        await page.fill('[data-testid=flush-every]', '10');
        await page.click('[data-testid=start]');
        await page.waitForSelector('[data-testid=backend-note]', { timeout: 30_000 });
        expect(await page.textContent('[data-testid=backend-note]')).toMatch(/WebGPU is not available in this browser|no WebGPU adapter/);
        expect(await page.textContent('[data-testid=backend-note]')).toContain('using webgl');
        await page.waitForFunction(() => /step (\d+)/.exec(document.querySelector('[data-testid=progress]')?.textContent ?? '')?.[1] as unknown as number >= 30, null, { timeout: 60_000 });
        await first.close();
        await page.waitForSelector('[data-testid=offline]', { timeout: 30_000 });
        await page.waitForFunction(() => /(\d+) record/.exec(document.querySelector('[data-testid=offline]')?.textContent ?? '')?.[1] as unknown as number >= 2, null, { timeout: 60_000 });
        await page.screenshot({ path: path.join(ARTIFACTS, 'web-offline.png'), fullPage: true });
        expect(await page.textContent('[data-testid=trainer-status]')).toContain('Training on webgl');
        // The server comes back on the same port and file.
        const second = await startTestServer({ webRoot, databaseUrl, port: first.port });
        await page.waitForFunction(() => document.querySelector('[data-testid=trainer-status]')?.textContent?.startsWith('Ended'), null, { timeout: 180_000 });
        expect(await page.textContent('[data-testid=trainer-status]')).toContain('finished');
        expect(await page.$('[data-testid=offline]')).toBeNull();
        const steps = await second.db.trainStep.findMany({ where: { sessionId: 1 }, select: { stepIndex: true }, orderBy: { stepIndex: 'asc' } });
        expect(steps.map((x) => x.stepIndex)).toEqual(Array.from({ length: 30 }, (_, i) => i));
        expect((await second.db.trainSession.findUniqueOrThrow({ where: { id: 1 } })).status).toBe('completed');
      },
      'web-fallback-offline',
      { webgpu: false, databaseUrl },
    );
  }, 300_000);

  it('shows a session from the legacy REST client with its steps, diagnostics and logs, live', async () => {
    await withPage(async (page, base, s) => {
      await post(`${s.url}/projects`, { name: 'Python project' });
      await post(`${s.url}/sessions/project/1`, seedSession('legacy'));
      for (let i = 0; i < 5; i++) await post(`${s.url}/sessions/1/step`, seedStep(i));
      await post(`${s.url}/sessions/1/log`, { level: 'ERROR', msg: 'CUDA out of memory, retrying', kind: 'error' });
      await page.goto(`${base}/#/`);
      await page.waitForSelector('[data-testid=session-row-1]');
      expect(await page.textContent('[data-testid=session-row-1]')).toContain('legacy');
      await page.click('text=legacy');
      await page.waitForFunction(() => document.querySelector('[data-testid="chart-Loss"]')?.getAttribute('data-points') === '5');
      await post(`${s.url}/sessions/1/step`, stringifyExtendedJson(seedStep(5, Number.NaN)));
      await page.waitForFunction(() => document.querySelector('[data-testid="chart-Loss"]')?.getAttribute('data-points') === '6');
      await page.waitForSelector('[data-testid=pending-dialog]');
      expect(await page.textContent('[data-testid=diagnostics]')).toContain('Loss is NaN');
      expect(await page.textContent('[data-testid=diagnostics]')).toContain('100% sure');
      expect(await page.textContent('[data-testid=logs]')).toContain('CUDA out of memory');
      await page.screenshot({ path: path.join(ARTIFACTS, 'web-legacy-pending.png'), fullPage: true });
      await page.click('[data-testid=pending-dialog] >> text=Resume');
      await page.waitForFunction(() => document.querySelector('[data-testid=status]')?.textContent === 'running');

      // The exports, as a person downloads them: a metric named with a comma keeps its column, a formula is neutralised.
      await post(`${s.url}/sessions/1/step`, { ...seedStep(6), loss: { train_mean: 1.5, val: { 'a,b': 0.25, '=cmd()': -1.5 } } });
      await page.waitForFunction(() => document.querySelector('[data-testid="chart-Loss"]')?.getAttribute('data-points') === '7');
      const [csvFile] = await Promise.all([page.waitForEvent('download'), page.click('text=Export CSV')]);
      const csv = Papa.parse<Record<string, string>>(readFileSync((await csvFile.path())!, 'utf8'), { header: true, skipEmptyLines: true });
      expect(csv.errors).toEqual([]);
      expect(csv.data.map((r) => r.step_index)).toEqual(['0', '1', '2', '3', '4', '5', '6']);
      expect(csv.data[6]!['a,b']).toBe('0.25');
      expect(csv.meta.fields).toContain("'=cmd()");
      expect(csv.data[5]!.train_mean).toBe('NaN');
      const [jsonFile] = await Promise.all([page.waitForEvent('download'), page.click('text=Export JSON')]);
      const exported = parseExtendedJson(readFileSync((await jsonFile.path())!, 'utf8')) as { steps: unknown[]; logs: unknown[] };
      expect(exported.steps).toHaveLength(7);
      expect(exported.logs.length).toBeGreaterThanOrEqual(1);
    }, 'web-legacy');
  }, 120_000);

  it('runs a subscription typed into GraphiQL and shows its live events', async () => {
    await withPage(async (page, base, s) => {
      await post(`${s.url}/projects`, { name: 'p' });
      await post(`${s.url}/sessions/project/1`, seedSession('graphiql'));
      const query = 'subscription { sessionSteps(sessionId: 1) { step { stepIndex loss { trainMean } } } }';
      await page.goto(`${base}/graphql?query=${encodeURIComponent(query)}`);
      await page.waitForSelector('.graphiql-execute-button', { timeout: 30_000 });
      await page.click('.graphiql-execute-button');
      await waitUntil(() => s.services.pubsub.subscriberCount('sessionSteps', 1) === 1, 'GraphiQL subscribed', 15_000);
      await post(`${s.url}/sessions/1/step`, seedStep(42, 1.25));
      // The result editor lays text out with non-breaking spaces: compare without whitespace.
      await page.waitForFunction(() => document.body.innerText.replace(/\s/g, '').includes('"stepIndex":42'), null, { timeout: 15_000 });
      expect(await page.evaluate(() => document.body.innerText.replace(/\s/g, ''))).toContain('"trainMean":1.25');
    }, 'web-graphiql');
  }, 120_000);

  it('says on an empty dashboard what to do next: the trainer, or three lines for Python or tfjs with this server filled in', async () => {
    await withPage(async (page, base) => {
      await page.goto(`${base}/#/`);
      await page.waitForSelector('[data-testid=getting-started]');
      expect(await page.textContent('[data-testid=getting-started]')).toContain('Open the trainer');
      expect(await page.textContent('[data-testid=snippet-python]')).toContain(base);
      expect(await page.textContent('[data-testid=snippet-tfjs]')).toContain(`serverUrl: "${base}"`);
      await page.screenshot({ path: path.join(ARTIFACTS, 'web-empty-home-snippets.png'), fullPage: true });
      await page.click('text=Open the trainer');
      await page.waitForSelector('[data-testid=start]');
    }, 'web-empty-home');
  }, 60_000);

  it('shows a subscription the server refuses in a banner, and Retry makes the page live again', async () => {
    await withPage(
      async (page, base, s) => {
        const admin = bearer(ADMIN_TOKEN);
        await post(`${s.url}/projects`, { name: 'Capped' }, admin);
        await post(`${s.url}/sessions/project/1`, seedSession('capped'), admin);
        for (let i = 0; i < 3; i++) await post(`${s.url}/sessions/1/step`, seedStep(i), admin);
        const key = await createKey(s.url, 1, 'read');
        // Another client of the same key holds one of its three subscriptions: the page's third is refused.
        const other = createClient({ url: s.wsUrl, webSocketImpl: WebSocket, connectionParams: { apiKey: key.secret }, retryAttempts: 0 });
        let holding = false;
        const release = other.subscribe({ query: 'subscription { sessionStatus(sessionId: 1) { status } }' }, { next: () => void (holding = true), error: () => {}, complete: () => {} });
        try {
          await waitUntil(() => holding, 'the other client holds a subscription', 10_000);
          await page.goto(`${base}/#/`);
          await page.evaluate((k) => localStorage.setItem('observer.apiKey', k), key.secret);
          await page.goto(`${base}/#/sessions/1`);
          await page.reload();
          await page.waitForSelector('[data-testid=live-error]', { timeout: 30_000 });
          expect(await page.textContent('[data-testid=live-error]')).toContain('This API key holds 3 subscriptions already');
          await page.screenshot({ path: path.join(ARTIFACTS, 'web-live-error.png'), fullPage: true });
          release();
          await other.dispose();
          await page.click('[data-testid=live-retry]');
          await page.waitForFunction(() => !document.querySelector('[data-testid=live-error]'));
          // Live again: a new step reaches the chart.
          await waitUntil(() => s.services.pubsub.subscriberCount('sessionSteps', 1) === 1, 'the page subscribed to steps', 15_000);
          await post(`${s.url}/sessions/1/step`, seedStep(3), admin);
          await page.waitForFunction(() => document.querySelector('[data-testid="chart-Loss"]')?.getAttribute('data-points') === '4', null, { timeout: 15_000 });
          expect(await page.$('[data-testid=live-error]')).toBeNull();
        } finally {
          release();
          await other.dispose();
        }
      },
      'web-live-error-retried',
      { webgpu: false, server: { auth: 'required', adminToken: ADMIN_TOKEN, maxSubscriptionsPerKey: 3 } },
    );
  }, 120_000);

  it('asks for a key when the server requires one, keeps it, uses it for queries and subscriptions, and forgets it', async () => {
    await withPage(
      async (page, base, s) => {
        const admin = bearer(ADMIN_TOKEN);
        await post(`${s.url}/projects`, { name: 'Team project' }, admin);
        await post(`${s.url}/sessions/project/1`, seedSession('secured'), admin);
        for (let i = 0; i < 3; i++) await post(`${s.url}/sessions/1/step`, seedStep(i), admin);
        const key = await createKey(s.url, 1, 'read');
        await page.goto(`${base}/#/`);
        await page.waitForSelector('[data-testid=key-prompt]');
        await page.screenshot({ path: path.join(ARTIFACTS, 'web-key-prompt.png') });
        await page.fill('[data-testid=api-key]', 'obs_wrong');
        await page.click('[data-testid=save-key]');
        await page.waitForSelector('[data-testid=key-problem]');
        expect(await page.textContent('[data-testid=key-problem]')).toContain('refused this key');
        await page.screenshot({ path: path.join(ARTIFACTS, 'web-key-refused.png') });
        await page.fill('[data-testid=api-key]', key.secret);
        await page.click('[data-testid=save-key]');
        await page.waitForSelector('[data-testid=session-row-1]');
        expect(await page.evaluate(() => localStorage.getItem('observer.apiKey'))).toBe(key.secret);
        // Live with the key: a new session arrives by sessionCreated, new steps by sessionSteps.
        await post(`${s.url}/sessions/project/1`, seedSession('second'), admin);
        await page.waitForSelector('[data-testid=session-row-2]');
        await page.screenshot({ path: path.join(ARTIFACTS, 'web-key-dashboard.png') });
        await page.click('text=secured');
        await page.waitForFunction(() => document.querySelector('[data-testid="chart-Loss"]')?.getAttribute('data-points') === '3');
        await post(`${s.url}/sessions/1/step`, seedStep(3), admin);
        await page.waitForFunction(() => document.querySelector('[data-testid="chart-Loss"]')?.getAttribute('data-points') === '4');
        // Revoked while open: its WebSocket closes with 4403 and the app asks again.
        await revokeKey(s.url, key.id);
        await page.waitForSelector('[data-testid=key-prompt]');
        expect(await page.textContent('[data-testid=key-problem]')).toContain('refused the stored key');
        await page.click('[data-testid=forget-key]');
        await page.waitForSelector('[data-testid=key-prompt]');
        expect(await page.evaluate(() => localStorage.getItem('observer.apiKey'))).toBeNull();
        expect(await page.$('[data-testid=key-problem]')).toBeNull();
        expect(await page.$('[data-testid=forget-key]')).toBeNull();
      },
      'web-key-forgotten',
      { webgpu: false, server: { auth: 'required', adminToken: ADMIN_TOKEN } },
    );
  }, 180_000);
});
