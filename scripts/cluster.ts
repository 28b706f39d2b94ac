/**
 * `npm run cluster -- --replicas 3 [--port 8000] [--database-url URL] [--redis-url URL] [--no-web]`:
 * N Observer replicas on one PostgreSQL and one Redis behind HAProxy on one port, in the
 * foreground; Ctrl-C or SIGTERM stops them gracefully (a second Ctrl-C skips the drain).
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { redact } from '../server/db/provider.ts';
import { startCluster, type Cluster } from './cluster-lib.ts';

const USAGE = `Usage: npm run cluster -- [--replicas N] [--port PORT] [--database-url URL] [--redis-url URL] [--no-web]

  --replicas N          replicas to start (default 3)
  --port PORT           the load balancer's port on 127.0.0.1 (default 8000; 0 picks a free one)
  --database-url URL    one PostgreSQL database for every replica, created and migrated by them
                        (default $DATABASE_URL or postgresql://postgres@127.0.0.1:5432/observer)
  --redis-url URL       one Redis for live events between replicas
                        (default $REDIS_URL or redis://127.0.0.1:6379; REDIS_PREFIX is passed on)
  --no-web              do not build and serve the web app (npm run build:web)

Needs HAProxy (sudo apt-get install haproxy), PostgreSQL and Redis.`;

/** The command line, checked; exits with the usage on a mistake. */
function readArgs(argv: string[]) {
  const fail = (message: string): never => {
    console.error(`${message}\n\n${USAGE}`);
    process.exit(2);
  };
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      options: {
        replicas: { type: 'string', default: '3' },
        port: { type: 'string', default: '8000' },
        'database-url': { type: 'string', default: process.env.DATABASE_URL || 'postgresql://postgres@127.0.0.1:5432/observer' },
        'redis-url': { type: 'string', default: process.env.REDIS_URL || 'redis://127.0.0.1:6379' },
        'no-web': { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (err) {
    return fail((err as Error).message);
  }
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const int = (name: string, raw: string, min: number, max: number) => {
    const n = Number(raw);
    return /^\d+$/.test(raw) && n >= min && n <= max ? n : fail(`--${name} must be an integer from ${min} to ${max}, got "${raw}"`);
  };
  const databaseUrl = values['database-url'];
  if (!/^postgres(ql)?:\/\//.test(databaseUrl)) fail(`--database-url must be a PostgreSQL URL (postgresql://...): replicas share one database, got "${databaseUrl}"`);
  const redisUrl = values['redis-url'];
  if (!/^rediss?:\/\//.test(redisUrl)) fail(`--redis-url must be a Redis URL (redis://host:6379), got "${redisUrl}"`);
  return { replicas: int('replicas', values.replicas, 1, 64), port: int('port', values.port, 0, 65535), databaseUrl, redisUrl, web: !values['no-web'] };
}

const args = readArgs(process.argv.slice(2));
const env: Record<string, string> = {};
if (args.web) {
  // As `npm start` does: the replicas serve the built app at /.
  const build = spawnSync('npm', ['run', 'build:web'], { stdio: 'inherit', cwd: path.resolve(import.meta.dirname, '..') });
  if (build.status !== 0) {
    console.error('[cluster] npm run build:web failed; fix it or start with --no-web');
    process.exit(1);
  }
  env.WEB_ROOT = process.env.WEB_ROOT || 'dist/web';
}

let cluster: Cluster | undefined;
let signals = 0;
const onSignal = (signal: NodeJS.Signals) => {
  signals++;
  if (!cluster) process.exit(130);
  if (signals === 1) {
    console.log(`[cluster] ${signal}: stopping the replicas (they drain, then close), then the balancer; Ctrl-C again to skip the drain`);
    cluster.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        console.error('[cluster] error while stopping:', err);
        process.exit(1);
      },
    );
  } else {
    // A second signal during a replica's drain makes it close at once.
    for (const r of cluster.replicas) void r.kill('SIGINT');
  }
};
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);

try {
  console.log(`[cluster] starting ${args.replicas} replica(s) on ${redact(args.databaseUrl)} and ${redact(args.redisUrl)}`);
  const { replicas, port, databaseUrl, redisUrl } = args;
  cluster = await startCluster({ replicas, port, databaseUrl, redisUrl, env, log: (line) => console.log(line) });
  console.log(`[cluster] Observer on ${cluster.url} (HAProxy, round-robin over ${cluster.replicas.length} replica(s))`);
  for (const r of cluster.replicas) console.log(`[cluster]   replica ${r.index}: ${r.url} (pid ${r.pid})`);
  console.log('[cluster] Ctrl-C stops them');
} catch (err) {
  console.error(`[cluster] could not start: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
}
