/**
 * `npm run bench:server`: step ingestion over REST and GraphQL (1 and 8 clients, the seed's
 * full payload, diagnostics on), fan-out latency to 1/10/100 `sessionSteps` subscribers, and
 * two floors measured with the same load generator: a bare node:http + better-sqlite3 handler,
 * and better-sqlite3 inserts in one process. Prints a table, writes bench/results/server.json.
 *
 * The server runs in its own process, the load generator in this one; on a 2-core machine they
 * share the cores, so compare ratios within one run rather than absolute numbers across runs.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir, cpus } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { postgresTarget } from '../server/db/provider.ts';
import { adminQuery } from '../server/db/schema-engine.ts';
import { seedSession, seedStep } from '../test/helpers/payloads.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const QUICK = process.argv.includes('--quick');
/** `--postgres`: REST ingestion and fan-out once more on PostgreSQL (POSTGRES_URL, default the local server), side by side. */
const POSTGRES = process.argv.includes('--postgres');
const POSTGRES_URL = process.env.POSTGRES_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
const STEPS_PER_RUN = QUICK ? 400 : 3000;
const WARMUP = QUICK ? 50 : 300;
const tmp = mkdtempSync(path.join(tmpdir(), 'observer-bench-'));

function startProcess(args: string[], env: Record<string, string>, ready: RegExp): Promise<{ child: ChildProcess; match: RegExpExecArray }> {
  const child = spawn(process.execPath, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (d) => {
      out += d;
      const m = ready.exec(out);
      if (m) resolve({ child, match: m });
    });
    child.once('exit', (code) => reject(new Error(`process exited (${code}): ${out}`)));
  });
}

const stop = (child: ChildProcess) => new Promise<void>((r) => (child.once('exit', () => r()), child.kill('SIGTERM')));

type Store = 'sqlite' | 'postgres';

/** The server as its own process on a fresh database: a SQLite file, or a PostgreSQL database dropped when it stops. */
async function startObserver(name: string, store: Store = 'sqlite') {
  const database = `observer_bench_${name.replace(/\W/g, '_')}_${process.pid}`;
  const url = store === 'sqlite' ? `file:${path.join(tmp, `${name}.db`)}` : postgresTarget(POSTGRES_URL).withDatabase(database);
  const { child, match } = await startProcess(['--import', 'tsx', 'server/main.ts'], { PORT: '0', DATABASE_URL: url }, /serving on (http:\/\/\S+) /);
  if (store === 'postgres') child.once('exit', () => void adminQuery(POSTGRES_URL, `DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`).catch(() => {}));
  return { child, url: match[1]! };
}

const agent = new Agent({ keepAlive: true, maxSockets: 64 });

/** One POST whose answer is drained unread (the generator's cost must not depend on answer size). */
function postStatus(url: string, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      res.on('end', () => resolve(res.statusCode!));
      res.resume();
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** One POST over a keep-alive connection; resolves with the status and the answer. */
function postRaw(url: string, body: string, headers: Record<string, string> = {}): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...headers } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode!, text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

interface LoadResult {
  stepsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
}

/**
 * `clients` loops, each with its own session, each sending steps one after another.
 * `send(client, stepIndex)` performs one request and returns its HTTP status.
 */
async function load(clients: number, total: number, send: (client: number, step: number) => Promise<number>): Promise<LoadResult> {
  const perClient = Math.ceil(total / clients);
  for (let c = 0; c < clients; c++) for (let i = 0; i < Math.ceil(WARMUP / clients); i++) await send(c, i);
  const latencies: number[] = [];
  let errors = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async (_, c) => {
      for (let i = 0; i < perClient; i++) {
        const t = performance.now();
        const status = await send(c, WARMUP + i);
        latencies.push(performance.now() - t);
        if (status !== 200) errors++;
      }
    }),
  );
  const seconds = (performance.now() - start) / 1000;
  latencies.sort((a, b) => a - b);
  return { stepsPerSecond: latencies.length / seconds, p50Ms: percentile(latencies, 50), p99Ms: percentile(latencies, 99), errors };
}

/** The bodies are serialised once up front so the generator's cost is the same for every target. */
const stepBodies = new Map<number, string>();
const stepBody = (i: number) => stepBodies.get(i) ?? (stepBodies.set(i, JSON.stringify(seedStep(i))), stepBodies.get(i)!);

async function createSessions(url: string, n: number): Promise<number[]> {
  const project = JSON.parse((await postRaw(`${url}/projects`, JSON.stringify({ name: 'bench' }))).text).id;
  const ids: number[] = [];
  for (let i = 0; i < n; i++) ids.push(JSON.parse((await postRaw(`${url}/sessions/project/${project}`, JSON.stringify(seedSession(`c${i}`)))).text).id);
  return ids;
}

async function benchRest(clients: number, store: Store = 'sqlite'): Promise<LoadResult> {
  const server = await startObserver(`rest-${clients}`, store);
  try {
    const sessions = await createSessions(server.url, clients);
    return await load(clients, STEPS_PER_RUN, (c, i) => postStatus(`${server.url}/sessions/${sessions[c]}/step`, stepBody(i)));
  } finally {
    await stop(server.child);
  }
}

const GQL_STEP = 'mutation($s: Int!, $i: StepInput!) { recordStep(sessionId: $s, input: $i) { created step { id } } }';
function gqlInput(i: number) {
  const s = seedStep(i) as Record<string, any>;
  return {
    stepIndex: i,
    timestamp: s.timestamp,
    durationSeconds: s.duration_seconds,
    loss: { trainMean: s.loss.train_mean, trainMin: s.loss.train_min, trainMax: s.loss.train_max, trainStd: s.loss.train_std, numBatches: s.loss.num_batches, val: s.loss.val },
    throughput: s.throughput,
    profiler: s.profiler,
    memory: s.memory,
    system: s.system,
    layerHealth: s.layer_health,
    sustainability: s.sustainability,
  };
}

async function benchGraphQL(clients: number): Promise<LoadResult> {
  const server = await startObserver(`gql-${clients}`);
  try {
    const sessions = await createSessions(server.url, clients);
    const bodies = new Map<string, string>();
    return await load(clients, STEPS_PER_RUN, async (c, i) => {
      const key = `${c}:${i}`;
      const body = bodies.get(key) ?? JSON.stringify({ query: GQL_STEP, variables: { s: sessions[c], i: gqlInput(i) } });
      const r = await postRaw(`${server.url}/graphql`, body);
      return r.status === 200 && !r.text.includes('"errors"') ? 200 : 500;
    });
  } finally {
    await stop(server.child);
  }
}

async function benchBareHttp(clients: number): Promise<LoadResult> {
  const { child, match } = await startProcess(['--import', 'tsx', 'bench/bare-server.ts', path.join(tmp, `bare-${clients}.db`)], {}, /listening (\d+)/);
  try {
    const url = `http://127.0.0.1:${match[1]}`;
    return await load(clients, STEPS_PER_RUN, (c, i) => postStatus(`${url}/sessions/${c + 1}/step`, stepBody(i)));
  } finally {
    await stop(child);
  }
}

function benchDirectInsert(): { rowsPerSecond: number } {
  const db = new Database(path.join(tmp, 'direct.db'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.exec('CREATE TABLE step (id INTEGER PRIMARY KEY, sessionId INTEGER, stepIndex INTEGER, loss TEXT, throughput TEXT, profiler TEXT, memory TEXT, system TEXT, layerHealth TEXT, sustainability TEXT, UNIQUE(sessionId, stepIndex))');
  const insert = db.prepare('INSERT INTO step (sessionId, stepIndex, loss, throughput, profiler, memory, system, layerHealth, sustainability) VALUES (?,?,?,?,?,?,?,?,?)');
  const rows = Array.from({ length: STEPS_PER_RUN }, (_, i) => seedStep(i) as Record<string, unknown>);
  const start = performance.now();
  rows.forEach((s, i) =>
    insert.run(1, i, JSON.stringify(s.loss), JSON.stringify(s.throughput), JSON.stringify(s.profiler), JSON.stringify(s.memory), JSON.stringify(s.system), JSON.stringify(s.layer_health), JSON.stringify(s.sustainability)),
  );
  const rate = STEPS_PER_RUN / ((performance.now() - start) / 1000);
  db.close();
  return { rowsPerSecond: rate };
}

/** Latency from a step's POST to its arrival at each of `n` subscribers (same clock). */
async function benchFanOut(n: number, store: Store = 'sqlite'): Promise<{ subscribers: number; deliveries: number; p50Ms: number; p99Ms: number; maxMs: number }> {
  const server = await startObserver(`fanout-${n}`, store);
  const clients: ReturnType<typeof createClient>[] = [];
  try {
    const [session] = await createSessions(server.url, 1);
    const sentAt = new Map<number, number>();
    const latencies: number[] = [];
    const seen = new Set<number>();
    const wsUrl = server.url.replace('http', 'ws') + '/graphql';
    // Ten subscriptions share one socket; it keeps the generator's own cost down.
    for (let k = 0; k < n; k += 10) {
      const client = createClient({ url: wsUrl, webSocketImpl: WebSocket, retryAttempts: 0 });
      clients.push(client);
      for (let j = k; j < Math.min(n, k + 10); j++) {
        client.subscribe<{ sessionSteps: { step: { stepIndex: number } } }>(
          { query: 'subscription($s: Int!) { sessionSteps(sessionId: $s) { step { stepIndex } } }', variables: { s: session } },
          {
            next: (r) => {
              seen.add(j);
              const t = sentAt.get(r.data!.sessionSteps.step.stepIndex);
              if (t !== undefined) latencies.push(performance.now() - t);
            },
            error: (e) => console.error(e),
            complete: () => {},
          },
        );
      }
    }
    // Probe steps (not measured) until every subscription has received one: then all are live.
    let probe = 100_000;
    const deadline = Date.now() + 30_000;
    while (seen.size < n && Date.now() < deadline) {
      await postRaw(`${server.url}/sessions/${session}/step`, stepBody(probe++));
      await new Promise((r) => setTimeout(r, 50));
    }
    await new Promise((r) => setTimeout(r, 200));
    const subscribed = seen.size;
    latencies.length = 0;
    const steps = QUICK ? 50 : 200;
    for (let i = 1; i <= steps; i++) {
      sentAt.set(i, performance.now());
      await postRaw(`${server.url}/sessions/${session}/step`, stepBody(i));
      await new Promise((r) => setTimeout(r, 10));
    }
    const end = Date.now() + 10_000;
    while (latencies.length < steps * subscribed && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
    latencies.sort((a, b) => a - b);
    return { subscribers: subscribed, deliveries: latencies.length, p50Ms: percentile(latencies, 50), p99Ms: percentile(latencies, 99), maxMs: latencies.at(-1)! };
  } finally {
    await Promise.all(clients.map((c) => c.dispose()));
    await stop(server.child);
  }
}

const fmt = (n: number, d = 1) => n.toFixed(d);
const results: Record<string, unknown> = { quick: QUICK, stepsPerRun: STEPS_PER_RUN, cpus: cpus().length, node: process.version, at: new Date().toISOString() };
const rows: string[][] = [];
try {
  for (const clients of [1, 8]) {
    const rest = await benchRest(clients);
    const graphql = await benchGraphQL(clients);
    const bare = await benchBareHttp(clients);
    results[`clients${clients}`] = { rest, graphql, bareHttpFloor: bare, restVsFloor: rest.stepsPerSecond / bare.stepsPerSecond };
    for (const [name, r] of [['REST', rest], ['GraphQL mutation', graphql], ['bare http + better-sqlite3', bare]] as const)
      rows.push([`ingest ${name}`, String(clients), fmt(r.stepsPerSecond, 0), fmt(r.p50Ms, 2), fmt(r.p99Ms, 2), String(r.errors)]);
    rows.push([`REST / bare floor`, String(clients), `${fmt((100 * rest.stepsPerSecond) / bare.stepsPerSecond, 0)}%`, '', '', '']);
  }
  const direct = benchDirectInsert();
  results.directInsertFloor = direct;
  rows.push(['better-sqlite3 in-process inserts', '-', fmt(direct.rowsPerSecond, 0), '', '', '']);
  const fanout = [];
  for (const n of [1, 10, 100]) {
    const f = await benchFanOut(n);
    fanout.push(f);
    rows.push([`fan-out to ${f.subscribers} subscribers`, '-', `${f.deliveries} deliveries`, fmt(f.p50Ms, 2), fmt(f.p99Ms, 2), '']);
  }
  results.fanOut = fanout;
  if (POSTGRES) {
    const pg: Record<string, unknown> = {};
    for (const clients of [1, 8]) {
      const r = await benchRest(clients, 'postgres');
      pg[`restClients${clients}`] = r;
      rows.push(['ingest REST on PostgreSQL', String(clients), fmt(r.stepsPerSecond, 0), fmt(r.p50Ms, 2), fmt(r.p99Ms, 2), String(r.errors)]);
    }
    const f = await benchFanOut(100, 'postgres');
    pg.fanOut100 = f;
    rows.push([`fan-out to ${f.subscribers} subscribers, PostgreSQL`, '-', `${f.deliveries} deliveries`, fmt(f.p50Ms, 2), fmt(f.p99Ms, 2), '']);
    results.postgres = pg;
  }
} finally {
  agent.destroy();
  rmSync(tmp, { recursive: true, force: true });
}

const header = ['what', 'clients', 'steps/s', 'p50 ms', 'p99 ms', 'errors'];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
const line = (r: string[]) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ');
console.log(line(header));
console.log(widths.map((w) => '-'.repeat(w)).join('  '));
for (const r of rows) console.log(line(r));
mkdirSync(path.join(ROOT, 'bench/results'), { recursive: true });
writeFileSync(path.join(ROOT, 'bench/results/server.json'), JSON.stringify(results, null, 2));
console.log('\nwrote bench/results/server.json');
