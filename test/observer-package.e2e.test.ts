/**
 * The Observer library as its users get it: `npm pack` of observer/, installed into a fresh
 * project that holds nothing else of this repository, trains against the real server in Node
 * and, bundled by Vite, in Chromium. The temporary project installs offline: the tarball, and
 * for each dependency and peer dependency the package declares (and only those) the copy in
 * this repository's node_modules, so an undeclared import fails here as it would for a user.
 */
import { execFile } from 'node:child_process';
import { builtinModules } from 'node:module';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { build, type Rolldown } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ARTIFACTS, hasChromium, launchChromium } from './helpers/browser.ts';
import { disposeAll, gql, post, startTestServer, tempDir } from './helpers/server.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const PACKAGE_DIR = path.join(ROOT, 'observer');
const TSC = path.join(ROOT, 'node_modules/typescript/bin/tsc');
const exec = promisify(execFile);

/** npm run inside `npm test` passes its own settings down; the temporary project gets none of them. */
const cleanEnv = () => Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.toLowerCase().startsWith('npm_')));

async function run(cmd: string, args: string[], cwd: string): Promise<string> {
  try {
    const { stdout } = await exec(cmd, args, { cwd, env: cleanEnv(), maxBuffer: 16 * 1024 * 1024 });
    return stdout;
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${cmd} ${args.join(' ')} failed in ${cwd}: ${e.message}\n${e.stdout ?? ''}\n${e.stderr ?? ''}`);
  }
}

interface Manifest {
  name: string;
  dependencies: Record<string, string>;
  peerDependencies: Record<string, string>;
}

let project = '';
let manifest: Manifest;

beforeAll(async () => {
  const packed = tempDir();
  await run('npm', ['pack', '--pack-destination', packed, '--silent'], PACKAGE_DIR);
  const tarball = path.join(packed, readdirSync(packed).find((f) => f.endsWith('.tgz'))!);
  manifest = JSON.parse(readFileSync(path.join(PACKAGE_DIR, 'package.json'), 'utf8')) as Manifest;
  project = tempDir();
  const dependencies: Record<string, string> = { [manifest.name]: `file:${tarball}` };
  for (const name of [...Object.keys(manifest.dependencies), ...Object.keys(manifest.peerDependencies)])
    dependencies[name] = `file:${path.join(ROOT, 'node_modules', name)}`;
  writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module', dependencies }, null, 2));
  await run('npm', ['install', '--offline', '--ignore-scripts', '--no-audit', '--no-fund', '--no-package-lock'], project);
}, 180_000);
afterAll(disposeAll);

/** A tiny binary classifier on 64 seeded points, trained with model.fit, then with a hand-written loop. */
const TRAINING = `
import * as tf from '@tensorflow/tfjs';
import { Observer, type StepRecord } from '@observer/tfjs';

export async function train(serverUrl: string): Promise<{ fit: number | null; loop: number | null; flushes: number }> {
  await tf.setBackend('cpu');
  const xs = tf.randomNormal([64, 4], 0, 1, 'float32', 7);
  const ys = xs.sum(1, true).greater(0).toFloat();
  const model = tf.sequential({
    layers: [tf.layers.dense({ inputShape: [4], units: 8, activation: 'relu', name: 'hidden' }), tf.layers.dense({ units: 1, activation: 'sigmoid', name: 'out' })],
  });
  model.compile({ optimizer: tf.train.adam(0.01), loss: 'binaryCrossentropy' });

  const fit = await Observer.create({ projectId: 1, runName: 'fit', config: { serverUrl, trackConsoleLogs: false } });
  fit.logHyperparameters({ learningRate: 0.01, batchSize: 16 });
  fit.registerModel(model, { probe: { x: xs.slice(0, 16), y: ys.slice(0, 16) } });
  await model.fit(xs, ys, { epochs: 2, batchSize: 16, validationSplit: 0.25, callbacks: fit.callbacks({ flushEvery: 2 }) });
  await fit.close();

  const records: StepRecord[] = [];
  let loop: number | null = null;
  {
    await using obs = await Observer.create({ projectId: 1, runName: 'loop', config: { serverUrl, trackConsoleLogs: false } });
    obs.registerModel(model);
    const optimizer = tf.train.sgd(0.1);
    for (let step = 0; step < 6; step++) {
      const loss = optimizer.minimize(() => tf.losses.logLoss(ys, model.predict(xs) as tf.Tensor) as tf.Scalar, true)!;
      obs.step(step, loss, { batchSize: 64 });
      loss.dispose();
      await tf.nextFrame();
      if (obs.flushDue || (step + 1) % 3 === 0) records.push(await obs.flush());
      await obs.holdIfPaused();
    }
    loop = obs.sessionId;
  }
  return { fit: fit.sessionId, loop, flushes: records.length };
}
`;

/**
 * The TypeScript examples of a README, each a module that declares what the example takes as
 * given (the model, the data, a loss function) and imports tfjs and the Observer unless it does.
 */
function readmeExamples(readme: string): string[] {
  return [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map(([, code]) => {
    const given = [
      /import \* as tf from/.test(code!) ? '' : "import * as tf from '@tensorflow/tfjs';",
      /import \{[^}]*\bObserver\b[^}]*\} from '@observer\/tfjs'/.test(code!) ? '' : "import { Observer } from '@observer/tfjs';",
      'declare const model: tf.LayersModel;',
      'declare const xs: tf.Tensor, ys: tf.Tensor, x: tf.Tensor, y: tf.Tensor;',
      'declare function lossFn(model: tf.LayersModel, x: tf.Tensor, y: tf.Tensor): tf.Scalar;',
      'declare function valLoss(): Promise<number>;',
    ];
    return `${given.filter(Boolean).join('\n')}\n${code}\nexport {};\n`;
  });
}

type Sessions = { sessions: { nodes: { id: number; runName: string; status: string; steps: { stepIndex: number; loss: { numBatches: number } | null; system: { backend: string } | null }[] }[] } };
const SESSIONS = 'query { sessions(projectId: 1) { nodes { id runName status steps { stepIndex loss { numBatches } system { backend } } } } }';

/** What the server stored of the two runs `train` made. */
async function storedRuns(url: string) {
  const { data } = await gql<Sessions>(url, SESSIONS);
  const byName = Object.fromEntries(data!.sessions.nodes.map((s) => [s.runName, s]));
  return { fit: byName.fit!, loop: byName.loop! };
}

function expectTrained(runs: Awaited<ReturnType<typeof storedRuns>>, backend: string) {
  // model.fit: 3 batches an epoch (48 training samples of 16), flushed after 2 and at the epoch end (with validation).
  expect(runs.fit.steps.map((s) => s.loss?.numBatches)).toEqual([2, 1, 2, 1]);
  expect(runs.loop.steps.map((s) => s.stepIndex)).toEqual([0, 1]);
  expect(runs.loop.steps.map((s) => s.loss?.numBatches)).toEqual([3, 3]);
  for (const run of [runs.fit, runs.loop]) {
    expect(run.status).toBe('running');
    expect(run.steps[0]!.system?.backend).toBe(backend);
  }
}

describe('the packed @observer/tfjs package', () => {
  it('installs from its tarball with JavaScript and type declarations only', () => {
    const installed = path.join(project, 'node_modules', manifest.name);
    const files = readdirSync(installed, { recursive: true }).map(String);
    expect(files).toContain('dist/index.js');
    expect(files).toContain('dist/index.d.ts');
    expect(files).toContain('README.md');
    // No TypeScript sources, tests or repository files travel with it.
    expect(files.filter((f) => (f.endsWith('.ts') && !f.endsWith('.d.ts')) || f.includes('.test.'))).toEqual([]);
    expect(manifest.peerDependencies).toHaveProperty('@tensorflow/tfjs');
  });

  it('type-checks its README examples and a strict consumer, and trains a tiny model in Node with model.fit and a hand-written loop', async () => {
    const s = await startTestServer();
    await post(`${s.url}/projects`, { name: 'package' });
    writeFileSync(path.join(project, 'train.ts'), TRAINING);
    writeFileSync(path.join(project, 'main.ts'), `import { train } from './train.js';\nconsole.log(JSON.stringify(await train(${JSON.stringify(s.url)})));\n`);
    // A user's strict project, without skipLibCheck so that the package's declarations are
    // checked too. tfjs's own declarations have errors under these settings (its users need
    // skipLibCheck): only those are let through.
    const compilerOptions = { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', lib: ['ES2022', 'DOM', 'ESNext.Disposable'], strict: true, types: [], skipLibCheck: false, outDir: 'out' };
    // The README's examples, as shipped in the package, are compiled too (with the names they assume declared).
    const examples = readmeExamples(readFileSync(path.join(project, 'node_modules', manifest.name, 'README.md'), 'utf8'));
    expect(examples.length).toBeGreaterThanOrEqual(3);
    examples.forEach((code, i) => writeFileSync(path.join(project, `readme-${i}.ts`), code));
    const files = ['main.ts', 'train.ts', ...examples.map((_, i) => `readme-${i}.ts`)];
    writeFileSync(path.join(project, 'tsconfig.json'), JSON.stringify({ compilerOptions, files }));
    const typeErrors = await run(process.execPath, [TSC, '-p', project], project).catch((e: Error) => e.message);
    const ours = typeErrors.split('\n').filter((l) => /error TS/.test(l) && !/node_modules[\\/]@tensorflow[\\/]/.test(l));
    expect(ours).toEqual([]);
    const resolved = await run(process.execPath, ['--input-type=module', '-e', `console.log(import.meta.resolve('${manifest.name}'))`], project);
    expect(resolved.trim()).toBe(`file://${path.join(project, 'node_modules', manifest.name, 'dist/index.js')}`);
    const out = await run(process.execPath, ['out/main.js'], project);
    const result = JSON.parse(out.trim().split('\n').pop()!) as { fit: number; loop: number; flushes: number };
    expect(result.flushes).toBe(2);
    const runs = await storedRuns(s.url);
    expect([runs.fit.id, runs.loop.id]).toEqual([result.fit, result.loop]);
    expectTrained(runs, 'cpu');
  }, 120_000);

  describe.runIf(hasChromium)('in a page built by Vite', () => {
    let outDir = '';
    let moduleIds: string[] = [];

    beforeAll(async () => {
      writeFileSync(path.join(project, 'train.ts'), TRAINING);
      writeFileSync(path.join(project, 'index.html'), '<!doctype html><html><head><meta charset="utf-8" /></head><body><script type="module" src="./page.ts"></script></body></html>');
      writeFileSync(
        path.join(project, 'page.ts'),
        `import { train } from './train.ts';
train(location.origin).then((r) => ((window as unknown as { __result: unknown }).__result = r), (e: Error) => ((window as unknown as { __result: unknown }).__result = { fatal: String(e.stack ?? e) }));
`,
      );
      outDir = tempDir();
      const output = (await build({ root: project, configFile: false, logLevel: 'warn', build: { outDir, emptyOutDir: true, chunkSizeWarningLimit: 10_000 } })) as Rolldown.RolldownOutput;
      moduleIds = output.output.flatMap((o) => (o.type === 'chunk' ? o.moduleIds : []));
    }, 120_000);

    it('bundles the installed package without server code, React or Node built-ins', async () => {
      // The package alone, as a browser bundle: tfjs (the user's own peer dependency, whose Node
      // platform Vite stubs) left out, so every module in it came from the package or its dependencies.
      writeFileSync(path.join(project, 'lib.html'), '<!doctype html><html><body><script type="module" src="./lib.ts"></script></body></html>');
      writeFileSync(path.join(project, 'lib.ts'), `import * as observer from '${manifest.name}';\nObject.assign(globalThis, { observer });\n`);
      const output = (await build({
        root: project,
        configFile: false,
        logLevel: 'warn',
        build: { outDir: tempDir(), emptyOutDir: true, rollupOptions: { input: path.join(project, 'lib.html'), external: [/^@tensorflow\//] } },
      })) as Rolldown.RolldownOutput;
      const ids = output.output.flatMap((o) => (o.type === 'chunk' ? o.moduleIds : []));
      const fromPackage = ids.filter((id) => id.startsWith(path.join(project, 'node_modules', manifest.name, 'dist')));
      expect(fromPackage.length).toBeGreaterThan(10);
      // Nothing of this repository's own code: not the library's sources, not the server or the web app.
      expect([...ids, ...moduleIds].filter((id) => id.startsWith(ROOT + path.sep) && !id.startsWith(path.join(ROOT, 'node_modules')))).toEqual([]);
      const forbidden = /[\\/]node_modules[\\/](react|react-dom|scheduler|urql|@urql|graphql-yoga|@prisma|prisma|better-sqlite3|pg|ioredis|ws)[\\/]/;
      expect([...ids, ...moduleIds].filter((id) => forbidden.test(id))).toEqual([]);
      const builtins = new Set([...builtinModules, ...builtinModules.map((m) => `node:${m}`)]);
      expect(ids.filter((id) => builtins.has(id) || id.startsWith('node:') || id.includes('browser-external'))).toEqual([]);
      // What the bundle holds besides the package: graphql-ws's client, and the page and Vite's own helpers.
      const others = ids.filter((id) => !fromPackage.includes(id) && !id.startsWith('\0') && !id.startsWith(project + path.sep));
      expect([...new Set(others.map((id) => /node_modules[\\/]((?:@[^\\/]+[\\/])?[^\\/]+)/.exec(id)?.[1] ?? id))]).toEqual(['graphql-ws']);
    });

    it('trains a tiny model in Chromium with model.fit and a hand-written loop', async () => {
      const s = await startTestServer({ webRoot: outDir });
      await post(`${s.url}/projects`, { name: 'package' });
      const browser = await launchChromium({ webgpu: false });
      try {
        const page = await browser.newPage();
        const errors: string[] = [];
        page.on('pageerror', (e) => errors.push(String(e)));
        await page.goto(`${s.url.replace('127.0.0.1', 'localhost')}/index.html`);
        await page.waitForFunction(() => (window as unknown as { __result?: unknown }).__result !== undefined, null, { timeout: 90_000 });
        const result = (await page.evaluate(() => (window as unknown as { __result: unknown }).__result)) as { fatal?: string; fit: number; loop: number; flushes: number };
        mkdirSync(ARTIFACTS, { recursive: true });
        expect(result.fatal).toBeUndefined();
        expect(errors).toEqual([]);
        expect(result.flushes).toBe(2);
        const runs = await storedRuns(s.url);
        expect([runs.fit.id, runs.loop.id]).toEqual([result.fit, result.loop]);
        expectTrained(runs, 'cpu');
      } finally {
        await browser.close();
      }
    }, 120_000);
  });
});
