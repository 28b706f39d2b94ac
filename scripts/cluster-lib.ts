/**
 * Several Observer replicas behind HAProxy on one machine: each replica is `server/main.ts` in
 * its own process on its own port, all on one PostgreSQL database and one Redis, and HAProxy
 * balances them round-robin (no stickiness) on one port, WebSockets included. Used by
 * `npm run cluster` and by the cluster tests.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { accessSync, constants, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as delay } from 'node:timers/promises';

/** The repository root: replicas run `server/main.ts` from here. */
const ROOT = path.resolve(import.meta.dirname, '..');

/** Options of `startCluster`. */
export interface ClusterOptions {
  /** How many replicas (at least 1). */
  replicas: number;
  /** The balancer's port on 127.0.0.1; `0` picks a free one. @default 0 */
  port?: number;
  /** One PostgreSQL database for every replica (`postgresql://...`); created and migrated by the replicas. */
  databaseUrl: string;
  /** One Redis for live events between replicas. Without it, subscribers only hear their own replica. @default undefined */
  redisUrl?: string;
  /** More environment for every replica (e.g. `REDIS_PREFIX`, `SHUTDOWN_DRAIN_MS`, `WEB_ROOT`). @default {} */
  env?: Record<string, string>;
  /** Receives every output line of the replicas (`[replica 0] ...`) and of HAProxy (`[haproxy] ...`). @default discards them */
  log?: (line: string) => void;
  /** The HAProxy binary. @default `haproxy` on PATH, else /usr/sbin/haproxy */
  haproxy?: string;
  /** How long a replica or the balancer may take to answer `/health` 200. @default 60000 */
  startTimeoutMs?: number;
}

/** One replica process of a running cluster. */
export interface Replica {
  /** 0 to replicas - 1; also its `REPLICA_ID`, reported by its `/health` as `"replica"`. */
  readonly index: number;
  readonly port: number;
  /** e.g. `http://127.0.0.1:41234`: the replica itself, bypassing the balancer. */
  readonly url: string;
  /** The process id of its current process (it changes on `restart`); undefined while stopped. */
  readonly pid: number | undefined;
  /** Sends the signal (default SIGTERM: drain, then close) and resolves once the process has exited. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Starts it again on the same port (after `kill`, or killing it first) and resolves once its `/health` answers 200. */
  restart(): Promise<void>;
}

/** A running cluster: the balancer and its replicas. */
export interface Cluster {
  /** The balancer, e.g. `http://127.0.0.1:8000`: what clients use. */
  readonly url: string;
  readonly balancerPort: number;
  readonly replicas: readonly Replica[];
  /** Stops the replicas (SIGTERM, SIGKILL if one hangs) and then the balancer. Safe to call twice. */
  stop(): Promise<void>;
}

/** Time a stopping process gets after SIGTERM before SIGKILL: a replica drains (2 s by default), then closes. */
const KILL_AFTER_MS = 15_000;

/** A free TCP port on 127.0.0.1 (free now: something else may take it before it is used). */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** The HAProxy binary, or an Error saying how to install it. */
export function findHaproxy(explicit?: string): string {
  const dirs = [...(process.env.PATH ?? '').split(path.delimiter), '/usr/sbin', '/usr/local/sbin'];
  const candidates = explicit ? [explicit] : dirs.filter(Boolean).map((d) => path.join(d, 'haproxy'));
  for (const c of candidates) {
    try {
      accessSync(c, constants.X_OK);
      return c;
    } catch {
      // not this one
    }
  }
  throw new Error(
    `HAProxy is needed to balance the replicas and was not found${explicit ? ` at ${explicit}` : ' (PATH, /usr/sbin)'}. ` +
      'Install it with `sudo apt-get install haproxy` (Debian, Ubuntu), or run one replica alone with `npm start`.',
  );
}

/**
 * HAProxy's configuration: round-robin without stickiness; a replica whose `/health` fails twice
 * (1 s apart, then 250 ms while it is failing) leaves the rotation, one success brings it back;
 * a request that cannot connect, or gets no answer at all, is sent to another replica.
 */
export function haproxyConfig(balancerPort: number, replicaPorts: readonly number[]): string {
  return `global
  maxconn 4096

defaults
  mode http
  timeout connect 2s
  timeout client 60s
  timeout server 60s
  timeout http-request 10s
  timeout http-keep-alive 10s
  # An upgraded WebSocket (graphql-ws pings every few seconds) may stay open this long.
  timeout tunnel 1h
  timeout client-fin 5s
  timeout server-fin 5s
  option redispatch
  retries 3
  # A replica stopped or killed between two health checks: the request goes to another one.
  retry-on conn-failure empty-response

frontend observer
  bind 127.0.0.1:${balancerPort}
  default_backend replicas

backend replicas
  balance roundrobin
  option httpchk
  http-check send meth GET uri /health ver HTTP/1.1 hdr Host 127.0.0.1
  http-check expect status 200
  # Which replica answered (the WebSocket upgrade too): for tests and debugging.
  http-response set-header X-Served-By %[srv_name]
  default-server check inter 1s fastinter 250ms downinter 1s fall 2 rise 1
${replicaPorts.map((port, i) => `  server replica${i} 127.0.0.1:${port}`).join('\n')}
`;
}

/** Polls `url` until it answers 200, failing early when `exited()` says the process is gone. */
async function waitHealthy(url: string, what: string, timeoutMs: number, exited: () => string | undefined): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const gone = exited();
    if (gone) throw new Error(`${what} exited before it was healthy: ${gone}`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
      await res.body?.cancel();
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${what} did not answer ${url} with 200 within ${timeoutMs} ms`);
    await delay(100);
  }
}

/** A child process whose output goes to `log` with a prefix, keeping its last lines for error messages. */
class Child {
  readonly process: ChildProcess;
  readonly lastLines: string[] = [];
  exitDescription: string | undefined;
  readonly exited: Promise<void>;

  constructor(command: string, args: string[], env: NodeJS.ProcessEnv, prefix: string, log: (line: string) => void) {
    // Its own process group: Ctrl-C in the terminal reaches the launcher only, which stops the replicas gracefully.
    this.process = spawn(command, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    for (const stream of [this.process.stdout!, this.process.stderr!]) {
      createInterface({ input: stream }).on('line', (line) => {
        this.lastLines.push(line);
        if (this.lastLines.length > 20) this.lastLines.shift();
        log(`${prefix} ${line}`);
      });
    }
    this.exited = new Promise<void>((resolve) => {
      this.process.once('error', (err) => {
        this.exitDescription = err.message;
        resolve();
      });
      this.process.once('close', (code, signal) => {
        const how = signal ? `signal ${signal}` : `exit code ${code}`;
        log(`${prefix} exited (${how})`);
        this.exitDescription = `${how}${this.lastLines.length ? `; last output:\n  ${this.lastLines.join('\n  ')}` : ''}`;
        resolve();
      });
    });
  }

  get running(): boolean {
    return this.exitDescription === undefined;
  }

  /** Sends `signal`, then SIGKILL if it has not exited after `killAfterMs`; resolves once it has exited. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', killAfterMs = KILL_AFTER_MS): Promise<void> {
    if (!this.running) return;
    this.process.kill(signal);
    const timer = setTimeout(() => this.running && this.process.kill('SIGKILL'), killAfterMs);
    await this.exited;
    clearTimeout(timer);
  }
}

/** Every child still running, killed when this process exits (a launcher that crashed must not leave them behind). */
const living = new Set<Child>();
let exitHookInstalled = false;
function track(child: Child): Child {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    // Only synchronous work is possible here: SIGTERM, and replicas drain and close by themselves.
    process.on('exit', () => {
      for (const c of living) if (c.running) c.process.kill('SIGTERM');
    });
  }
  living.add(child);
  void child.exited.then(() => living.delete(child));
  return child;
}

/**
 * Starts `replicas` Observer servers on one database and one Redis, and HAProxy in front of
 * them, and resolves once every replica and the balancer answer `/health` with 200.
 *
 * @example
 * const cluster = await startCluster({ replicas: 3, port: 8000, databaseUrl: 'postgresql://postgres@127.0.0.1:5432/observer', redisUrl: 'redis://127.0.0.1:6379' });
 * console.log(cluster.url); // http://127.0.0.1:8000
 * await cluster.replicas[1]!.kill('SIGTERM'); // drains, leaves the rotation, exits
 * await cluster.stop();
 */
export async function startCluster(opts: ClusterOptions): Promise<Cluster> {
  if (!Number.isInteger(opts.replicas) || opts.replicas < 1) throw new Error(`replicas must be a positive integer, got ${opts.replicas}`);
  if (opts.replicas > 1 && !/^postgres(ql)?:\/\//.test(opts.databaseUrl))
    throw new Error('Several replicas need one PostgreSQL database (DATABASE_URL=postgresql://...): a SQLite file serves one server only');
  const haproxy = findHaproxy(opts.haproxy);
  const log = opts.log ?? (() => {});
  const timeoutMs = opts.startTimeoutMs ?? 60_000;
  const balancerPort = opts.port || (await freePort());
  const ports: number[] = [];
  while (ports.length < opts.replicas) {
    const port = await freePort();
    if (port !== balancerPort && !ports.includes(port)) ports.push(port);
  }

  const dir = mkdtempSync(path.join(tmpdir(), 'observer-cluster-'));
  const children: Child[] = [];
  let balancer: Child | undefined;
  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      // Replicas first (they drain and close their WebSockets with 1001), then the balancer.
      await Promise.all(children.map((c) => c.stop('SIGTERM')));
      await balancer?.stop('SIGTERM', 5000);
      rmSync(dir, { recursive: true, force: true });
    })());

  const replicas = ports.map((port, index) => {
    const url = `http://127.0.0.1:${port}`;
    const env: NodeJS.ProcessEnv = { ...process.env, ...opts.env, HOST: '127.0.0.1', PORT: String(port), DATABASE_URL: opts.databaseUrl, REPLICA_ID: String(index) };
    if (opts.redisUrl) env.REDIS_URL = opts.redisUrl;
    else delete env.REDIS_URL;
    const launch = async () => {
      const child = track(new Child(process.execPath, ['--import', 'tsx', 'server/main.ts'], env, `[replica ${index}]`, log));
      children[index] = child;
      await waitHealthy(`${url}/health`, `replica ${index}`, timeoutMs, () => child.exitDescription);
    };
    const replica: Replica & { launch(): Promise<void> } = {
      index,
      port,
      url,
      get pid() {
        const child = children[index];
        return child?.running ? child.process.pid : undefined;
      },
      kill: async (signal = 'SIGTERM') => children[index]?.stop(signal),
      restart: async () => {
        await children[index]?.stop('SIGTERM');
        if (stopping) throw new Error('the cluster is stopped');
        await launch();
      },
      launch,
    };
    return replica;
  });

  try {
    // All at once: the first to reach a fresh database migrates it under an advisory lock, the others wait.
    await Promise.all(replicas.map((r) => r.launch()));
    const cfg = path.join(dir, 'haproxy.cfg');
    writeFileSync(cfg, haproxyConfig(balancerPort, ports));
    const b = track(new Child(haproxy, ['-f', cfg, '-db'], process.env, '[haproxy]', log));
    balancer = b;
    await waitHealthy(`http://127.0.0.1:${balancerPort}/health`, `HAProxy on port ${balancerPort}`, timeoutMs, () => b.exitDescription);
  } catch (err) {
    await stop();
    throw err;
  }

  return {
    url: `http://127.0.0.1:${balancerPort}`,
    balancerPort,
    replicas: replicas as readonly Replica[],
    stop,
  };
}
