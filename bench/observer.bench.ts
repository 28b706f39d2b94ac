/**
 * `npm run bench:observer`: the same training with and without the observer, in Node (cpu)
 * and in headless Chromium (webgl, webgpu), default config and everything on. Prints the
 * step-time ratios, writes bench/results/observer.json. `--quick` runs fewer steps.
 * `--snapshots`: only the cost of the rollback snapshots (default config with and without them,
 * Node cpu), written to bench/results/observer-snapshots.json.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { buildTestPage, hasChromium, launchChromium } from '../test/helpers/browser.ts';
import { loadMnist } from '../test/helpers/mnist.ts';
import { bytesAtEnd, compareModes, type Mode } from './observer-workload.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const QUICK = process.argv.includes('--quick');
/** `--health`: only the layer-health cost, with more repetitions. */
const HEALTH_ONLY = process.argv.includes('--health');
/** `--snapshots`: only the snapshots' cost (step time and device memory), with more repetitions. */
const SNAPSHOTS_ONLY = process.argv.includes('--snapshots');
const tmp = mkdtempSync(path.join(tmpdir(), 'observer-bench-'));
const web = path.join(tmp, 'web');

async function startServer(): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts'], {
    cwd: ROOT,
    env: { ...process.env, PORT: '0', DATABASE_URL: `file:${path.join(tmp, 'bench.db')}`, WEB_ROOT: web },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (d) => {
      out += d;
      const m = /serving on (http:\/\/\S+) /.exec(out);
      if (m) resolve(m[1]!);
    });
    child.once('exit', (c) => reject(new Error(`server exited ${c}: ${out}`)));
  });
  await fetch(`${url}/projects`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"name":"bench"}' });
  return { child, url };
}

const results: Record<string, Record<'off' | 'default' | 'all', number> & { steps: number }> = {};
let health: Record<'default' | 'health50' | 'health10', number> & { steps: number } = { steps: 0, default: 0, health50: 0, health10: 0 };
const { child, url } = await startServer();
try {
  await tf.setBackend('cpu');
  const data = loadMnist(64, 0);
  const steps = QUICK ? 60 : 200;
  if (SNAPSHOTS_ONLY) {
    const reps = QUICK ? 3 : 7;
    const r = await compareModes({ xs: data.xs, ys: data.ys, serverUrl: url, projectId: 1, steps, batchSize: 64, flushEvery: 20 }, reps, ['off', 'default', 'nosnap'] as const);
    const bytes = { default: bytesAtEnd.default!, nosnap: bytesAtEnd.nosnap!, off: bytesAtEnd.off! };
    const snapshot = { steps, reps, ms_per_step: r, ratio_with: r.default / r.off, ratio_without: r.nosnap / r.off, bytes_at_end: bytes, snapshot_bytes: bytes.default - bytes.nosnap };
    console.log(
      `snapshots (Node cpu, 784-128-10 MLP with SGD, batches of 64, flush every 20, ${steps} steps, median of ${reps}): off ${r.off.toFixed(2)} ms/step, ` +
        `default with snapshots ${r.default.toFixed(2)} (${snapshot.ratio_with.toFixed(3)}x), without ${r.nosnap.toFixed(2)} (${snapshot.ratio_without.toFixed(3)}x); ` +
        `device bytes at the end: ${bytes.default} with, ${bytes.nosnap} without (${snapshot.snapshot_bytes} held by the snapshots; the weights are ${4 * (784 * 128 + 128 + 128 * 10 + 10)})`,
    );
    writeFileSync(path.join(ROOT, 'bench/results/observer-snapshots.json'), JSON.stringify({ quick: QUICK, at: new Date().toISOString(), target: 1.05, ...snapshot }, null, 2));
    console.log('wrote bench/results/observer-snapshots.json');
  }
  if (!HEALTH_ONLY && !SNAPSHOTS_ONLY) results.node_cpu = { steps, ...(await compareModes({ xs: data.xs, ys: data.ys, serverUrl: url, projectId: 1, steps, batchSize: 64, flushEvery: 20 }, QUICK ? 1 : 3)) };
  // The cost of per-layer health alone: measured every 50 or every 10 steps, flushes every 50.
  const healthSteps = QUICK ? 100 : 300;
  if (!SNAPSHOTS_ONLY) health = { steps: healthSteps, ...(await compareModes({ xs: data.xs, ys: data.ys, serverUrl: url, projectId: 1, steps: healthSteps, batchSize: 64, flushEvery: 50 }, QUICK ? 1 : HEALTH_ONLY ? 9 : 5, ['default', 'health50', 'health10'] as const)) };
  if (HEALTH_ONLY || SNAPSHOTS_ONLY) console.log('--health, --snapshots: browser backends skipped');
  else if (hasChromium) {
    mkdirSync(web, { recursive: true });
    await buildTestPage('bench.html', web);
    const x = await data.xs.mul(255).round().data();
    const y = await data.ys.argMax(1).data();
    const bytes = new Uint8Array(data.count * 785);
    for (let i = 0; i < data.count; i++) {
      bytes[i * 785] = y[i]!;
      bytes.set(x.slice(i * 784, (i + 1) * 784), i * 785 + 1);
    }
    writeFileSync(path.join(web, 'mnist-sample.bin'), bytes);
    const browser = await launchChromium();
    try {
      for (const backend of ['webgl', 'webgpu']) {
        const page = await browser.newPage();
        const browserSteps = QUICK ? 40 : 100;
        await page.goto(`${url.replace('127.0.0.1', 'localhost')}/bench.html?backend=${backend}&steps=${browserSteps}&reps=${QUICK ? 1 : 3}`);
        await page.waitForFunction(() => window.__bench !== undefined, null, { timeout: 600_000 });
        const r = (await page.evaluate(() => window.__bench)) as Record<string, unknown>;
        if (r.fatal) throw new Error(`${backend}: ${r.fatal}`);
        results[`chromium_${r.backend}`] = { steps: browserSteps, off: r.off as number, default: r.default as number, all: r.all as number };
        await page.close();
      }
    } finally {
      await browser.close();
    }
  } else console.log('Chromium not found: browser backends skipped');
} finally {
  await new Promise<void>((r) => (child.once('exit', () => r()), child.kill('SIGTERM')));
  rmSync(tmp, { recursive: true, force: true });
}

if (SNAPSHOTS_ONLY) process.exit(0);
const rows = Object.entries(results).map(([where, r]) => [
  where,
  String(r.steps),
  r.off.toFixed(2),
  r.default.toFixed(2),
  `${(r.default / r.off).toFixed(3)}x`,
  r.all.toFixed(2),
  `${(r.all / r.off).toFixed(3)}x`,
]);
const header = ['backend', 'steps', 'off ms/step', 'default ms/step', 'default ratio', 'all-on ms/step', 'all-on ratio'];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
console.log(header.map((h, i) => h.padEnd(widths[i]!)).join('  '));
console.log(widths.map((w) => '-'.repeat(w)).join('  '));
for (const r of rows) console.log(r.map((c, i) => c.padEnd(widths[i]!)).join('  '));
const healthRatios = { every50: health.health50 / health.default, every10: health.health10 / health.default };
console.log(
  `\nlayer health (Node cpu, 784-128-10 MLP, batches of 64, a 32-sample probe of which layerHealthProbeSize (8) are used, flush every 50, ${health.steps} steps): ${health.default.toFixed(2)} ms/step without, ` +
    `every 50 steps ${health.health50.toFixed(2)} (${((healthRatios.every50 - 1) * 100).toFixed(1)}%), every 10 steps ${health.health10.toFixed(2)} (${((healthRatios.every10 - 1) * 100).toFixed(1)}%)`,
);
mkdirSync(path.join(ROOT, 'bench/results'), { recursive: true });
writeFileSync(
  path.join(ROOT, `bench/results/observer${HEALTH_ONLY ? '-health' : ''}.json`),
  JSON.stringify(
    {
      quick: QUICK,
      at: new Date().toISOString(),
      targets: { default: 1.05, all: 1.2, layerHealthEvery50: 1.01, layerHealthEvery10: 1.03 },
      results: Object.fromEntries(Object.entries(results).map(([k, r]) => [k, { ...r, defaultRatio: r.default / r.off, allRatio: r.all / r.off }])),
      layer_health: { ...health, ratios: healthRatios },
    },
    null,
    2,
  ),
);
console.log(`\nwrote bench/results/observer${HEALTH_ONLY ? '-health' : ''}.json`);
