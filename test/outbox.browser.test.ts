import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { buildTestPage, hasChromium, launchChromium } from './helpers/browser.ts';
import { disposeAll, gql, post, startTestServer, tempDir, waitUntil } from './helpers/server.ts';

afterEach(disposeAll);

type Sessions = { sessions: { nodes: { runName: string; steps: { stepIndex: number }[] }[] } };

describe.runIf(hasChromium)('Observer outbox in the browser', () => {
  it('loses nothing across a reload while the server is down, and stores nothing twice', async () => {
    const out = tempDir();
    await buildTestPage('outbox.html', out);
    const pages = await startTestServer({ webRoot: out });
    // The server the observer talks to: a free port, down until the end.
    const probe = await startTestServer();
    const port = probe.port;
    await probe.close();
    const target = `http://localhost:${port}`;
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      const base = `${pages.url.replace('127.0.0.1', 'localhost')}/outbox.html?server=${encodeURIComponent(target)}`;
      await page.goto(`${base}&run=before-reload&flushes=3`);
      await page.waitForFunction(() => window.__result !== undefined, null, { timeout: 60_000 });
      const first = (await page.evaluate(() => window.__result)) as { unsent: number; sessionId: number | null };
      // Three step records, and the observer's own log lines.
      expect(first.sessionId).toBeNull();
      expect(first.unsent).toBeGreaterThanOrEqual(3);

      // A reload: the first page's observer never closed; its records are only in IndexedDB.
      await page.goto(`${base}&run=after-reload&flushes=1`);
      await page.waitForFunction(() => window.__result !== undefined, null, { timeout: 60_000 });
      expect(((await page.evaluate(() => window.__result)) as { unsent: number }).unsent).toBeGreaterThanOrEqual(1);

      const s = await startTestServer({ port, databaseUrl: `file:${path.join(tempDir(), 'app.db')}` });
      await post(`${s.url}/projects`, { name: 'late' });
      const query = '{ sessions { nodes { runName steps { stepIndex } } } }';
      await waitUntil(
        async () => ((await gql<Sessions>(s.url, query)).data?.sessions.nodes ?? []).reduce((n, x) => n + x.steps.length, 0) === 4,
        'both pages\' records arrive',
        30_000,
      );
      const nodes = (await gql<Sessions>(s.url, query)).data!.sessions.nodes;
      const byRun = Object.fromEntries(nodes.map((n) => [n.runName, n.steps.map((x) => x.stepIndex)]));
      expect(byRun).toEqual({ 'before-reload': [0, 1, 2], 'after-reload': [0] });
      await page.evaluate(() => window.__observer!.close());
    } finally {
      await browser.close();
    }
  }, 180_000);
});
