/**
 * `npm run bench:web`: how fast the dashboard opens a session of 10,000 steps (the seed's full
 * payload each), and whether it keeps up with 50 steps/s arriving live. The server runs in
 * this process, Chromium drives the built app. Prints a table, writes bench/results/web.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { build } from 'vite';
import { startServer } from '../server/app.ts';
import { hasChromium, launchChromium } from '../test/helpers/browser.ts';
import { seedSession, seedStep } from '../test/helpers/payloads.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const STEPS = Number(process.env.BENCH_STEPS ?? 10_000);
if (!hasChromium) throw new Error('bench:web needs Chromium (apt-get install chromium)');
const tmp = mkdtempSync(path.join(tmpdir(), 'observer-web-bench-'));
await import('../scripts/build-data.ts');
await build({ configFile: path.join(ROOT, 'vite.config.ts'), logLevel: 'warn', build: { outDir: path.join(tmp, 'web'), emptyOutDir: true } });
const server = await startServer({ port: 0, databaseUrl: `file:${path.join(tmp, 'bench.db')}`, webRoot: path.join(tmp, 'web') });
const post = (p: string, body: unknown) => fetch(`${server.url}${p}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
const results: Record<string, number> = {};
try {
  await post('/projects', { name: 'bench' });
  await post('/sessions/project/1', seedSession('big'));
  for (let i = 0; i < STEPS; i += 400) await post('/sessions/1/steps', Array.from({ length: Math.min(400, STEPS - i) }, (_, k) => seedStep(i + k, 2.3 / (1 + (i + k) / 100))));
  await server.services.diagnostics.idle();
  const browser = await launchChromium();
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    const base = server.url.replace('127.0.0.1', 'localhost');
    // Warm the page's own code (cache), then time a fresh open of the big session.
    await page.goto(`${base}/#/`);
    await page.waitForSelector('text=bench');
    const opens: number[] = [];
    for (let r = 0; r < 3; r++) {
      await page.goto(`${base}/#/`);
      await page.waitForSelector('text=bench');
      const t0 = Date.now();
      await page.goto(`${base}/#/sessions/1`);
      await page.waitForFunction((n) => document.querySelector('[data-testid="chart-Loss"]')?.getAttribute('data-points') === String(n), STEPS, { timeout: 60_000 });
      opens.push(Date.now() - t0);
    }
    results.open_ms_median = [...opens].sort((a, b) => a - b)[1]!;
    results.open_ms_max = Math.max(...opens);

    // 50 steps/s for 10 s: how far behind the chart is when the last one was posted.
    const rate = 50;
    const seconds = 10;
    const start = Date.now();
    for (let k = 0; k < rate * seconds; k++) {
      const due = start + (k * 1000) / rate;
      if (due > Date.now()) await new Promise((r) => setTimeout(r, due - Date.now()));
      await post('/sessions/1/step', seedStep(STEPS + k, 0.5));
    }
    const posted = Date.now();
    results.live_post_rate = (rate * seconds) / ((posted - start) / 1000);
    await page.waitForFunction((n) => document.querySelector('[data-testid="chart-Loss"]')?.getAttribute('data-points') === String(n), STEPS + rate * seconds, { timeout: 60_000 });
    results.live_lag_after_last_post_ms = Date.now() - posted;
  } finally {
    await browser.close();
  }
} finally {
  await server.close();
  rmSync(tmp, { recursive: true, force: true });
}
console.table(results);
mkdirSync(path.join(ROOT, 'bench/results'), { recursive: true });
writeFileSync(path.join(ROOT, 'bench/results/web.json'), JSON.stringify({ steps: STEPS, at: new Date().toISOString(), ...results }, null, 2));
console.log('wrote bench/results/web.json');
