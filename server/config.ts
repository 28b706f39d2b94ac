import path from 'node:path';

/** Server settings. `loadConfig` is the only reader of `process.env`. */
export interface ServerConfig {
  /** @default 8000 */
  port: number;
  /** @default '127.0.0.1' */
  host: string;
  /** SQLite URL. @default 'file:./data/app.db' */
  databaseUrl: string;
  /** Largest request body accepted over HTTP, and the largest WebSocket message. @default 4 MiB */
  maxBodyBytes: number;
  /** Deepest GraphQL selection accepted. @default 12 */
  maxQueryDepth: number;
  /** Most fields one GraphQL operation may select (its cost). @default 2000 */
  maxQueryCost: number;
  /** Events a subscriber may have queued before older ones are coalesced. @default 256 */
  subscriberQueueLimit: number;
  /** Folder of the built web app served at `/`; absent until the web issue lands. */
  webRoot: string | undefined;
  /** Browser origins besides localhost that may call the API (CORS, WebSocket). @default [] */
  corsOrigins: string[];
  /** Redis for live events between replicas (`redis://host:6379`); without it events stay in the process. @default undefined */
  redisUrl: string | undefined;
  /** Prefix of this deployment's Redis channels, so two deployments can share one Redis. @default 'observer:' */
  redisPrefix: string;
  /**
   * How long a replica told to stop (SIGTERM) keeps serving while `/health` answers 503
   * `draining`, so a load balancer takes it out before it closes. @default 2000
   */
  shutdownDrainMs: number;
  /**
   * How long a replica's claim to judge a session lasts without renewal, and how often each
   * replica looks for sessions whose judge died (ms). @default 10000, 5000
   */
  judgeLeaseMs: number;
  judgeSweepMs: number;
  /** This replica's name in `/health` (`"replica"`), e.g. its index behind a balancer. @default undefined */
  replicaId: string | undefined;
  /**
   * `required`: every request needs an API key; `off`: none does. Unset: `off` on a loopback
   * address, and the server refuses to start on any other (see `server/auth/mode.ts`). @default undefined
   */
  auth: 'required' | 'off' | undefined;
  /** `OBSERVER_ADMIN_TOKEN`: creates projects and keys. @default undefined */
  adminToken: string | undefined;
  /** Host names (besides loopback ones) accepted with auth off (DNS-rebinding guard). @default [] */
  allowedHosts: string[];
  /** Requests per second a key may make, sustained (0: no limit). @default 200 */
  rateLimitPerSecond: number;
  /** Requests a key may make at once before the sustained rate applies. @default 2000 */
  rateLimitBurst: number;
  /** WebSockets one key may hold open at once. @default 32 */
  maxWebSocketsPerKey: number;
  /** Subscriptions one key may hold at once, over all its WebSockets. @default 256 */
  maxSubscriptionsPerKey: number;
  /** How often open WebSockets' keys are checked against the database for revocations no event announced (ms). @default 5000 */
  keySweepMs: number;
}

/** The defaults, for tests that start a server with a few overrides. */
export const defaultConfig: ServerConfig = {
  port: 8000,
  host: '127.0.0.1',
  databaseUrl: 'file:./data/app.db',
  maxBodyBytes: 4 * 1024 * 1024,
  maxQueryDepth: 12,
  maxQueryCost: 2000,
  subscriberQueueLimit: 256,
  webRoot: undefined,
  corsOrigins: [],
  redisUrl: undefined,
  redisPrefix: 'observer:',
  shutdownDrainMs: 2000,
  replicaId: undefined,
  judgeLeaseMs: 10_000,
  judgeSweepMs: 5_000,
  auth: undefined,
  adminToken: undefined,
  allowedHosts: [],
  rateLimitPerSecond: 200,
  rateLimitBurst: 2000,
  maxWebSocketsPerKey: 32,
  maxSubscriptionsPerKey: 256,
  keySweepMs: 5000,
};

function intFrom(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer, got "${raw}"`);
  return n;
}

function authFrom(env: NodeJS.ProcessEnv): ServerConfig['auth'] {
  const raw = env.AUTH;
  if (raw === undefined || raw === '') return undefined;
  if (raw === 'required' || raw === 'off') return raw;
  throw new Error(`AUTH must be "required" or "off", got "${raw}"`);
}

const list = (raw: string | undefined) => (raw ?? '').split(',').map((s) => s.trim()).filter(Boolean);

/** Reads the settings from the environment, with the defaults above. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): ServerConfig {
  return {
    port: intFrom(env, 'PORT', defaultConfig.port),
    host: env.HOST || defaultConfig.host,
    databaseUrl: env.DATABASE_URL || defaultConfig.databaseUrl,
    maxBodyBytes: intFrom(env, 'MAX_BODY_BYTES', defaultConfig.maxBodyBytes),
    maxQueryDepth: intFrom(env, 'MAX_QUERY_DEPTH', defaultConfig.maxQueryDepth),
    maxQueryCost: intFrom(env, 'MAX_QUERY_COST', defaultConfig.maxQueryCost),
    subscriberQueueLimit: intFrom(env, 'SUBSCRIBER_QUEUE_LIMIT', defaultConfig.subscriberQueueLimit),
    webRoot: env.WEB_ROOT ? path.resolve(env.WEB_ROOT) : undefined,
    corsOrigins: list(env.CORS_ORIGINS),
    redisUrl: env.REDIS_URL || undefined,
    redisPrefix: env.REDIS_PREFIX || defaultConfig.redisPrefix,
    shutdownDrainMs: intFrom(env, 'SHUTDOWN_DRAIN_MS', defaultConfig.shutdownDrainMs),
    replicaId: env.REPLICA_ID || undefined,
    judgeLeaseMs: intFrom(env, 'JUDGE_LEASE_MS', defaultConfig.judgeLeaseMs),
    judgeSweepMs: intFrom(env, 'JUDGE_SWEEP_MS', defaultConfig.judgeSweepMs),
    auth: authFrom(env),
    adminToken: env.OBSERVER_ADMIN_TOKEN || undefined,
    allowedHosts: list(env.ALLOWED_HOSTS),
    rateLimitPerSecond: intFrom(env, 'RATE_LIMIT_PER_SECOND', defaultConfig.rateLimitPerSecond),
    rateLimitBurst: intFrom(env, 'RATE_LIMIT_BURST', defaultConfig.rateLimitBurst),
    maxWebSocketsPerKey: intFrom(env, 'MAX_WEBSOCKETS_PER_KEY', defaultConfig.maxWebSocketsPerKey),
    maxSubscriptionsPerKey: intFrom(env, 'MAX_SUBSCRIPTIONS_PER_KEY', defaultConfig.maxSubscriptionsPerKey),
    keySweepMs: defaultConfig.keySweepMs,
  };
}
