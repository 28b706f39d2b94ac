import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { once } from 'node:events';
import { isLoopbackHostHeader, resolveAuthMode } from './auth/mode.ts';
import { credentialFromConnectionParams, credentialFromHeader, keyIdOf, type Principal } from './auth/principal.ts';
import { createRateLimiter } from './auth/rate-limit.ts';
import { REST_RULES } from './auth/rules.ts';
import { defaultConfig, type ServerConfig } from './config.ts';
import { DomainError, ErrorCode } from './errors.ts';
import { openDatabase, type Db } from './db/client.ts';
import { isDatabaseUnavailable, RETRY_AFTER_SECONDS } from './db/unavailable.ts';
import { attachWebSockets } from './graphql/ws.ts';
import { createGraphQL } from './graphql/yoga.ts';
import { createLocalBus, createRedisBus } from './lib/event-bus.ts';
import { corsHeaders, isAllowedOrigin, isValidHost } from './lib/origin.ts';
import { readBody, sendError, sendJson } from './rest/http.ts';
import { createRouter } from './rest/router.ts';
import { restRoutes } from './rest/routes.ts';
import { serveStatic } from './rest/static.ts';
import { createServices, type Services } from './services.ts';

/** A running Observer server. */
export interface RunningServer {
  /** e.g. `http://127.0.0.1:8000` */
  url: string;
  port: number;
  services: Services;
  db: Db;
  /** Migrations applied at this start (empty when the database was current). */
  appliedMigrations: string[];
  /**
   * Starts a graceful stop: `/health` answers 503 `{"status": "draining"}` so a load balancer
   * takes this replica out, and HTTP answers ask clients to close their connection; requests are
   * still served until `close()`.
   */
  drain(): void;
  /** Stops accepting, closes WebSockets with 1001 (Going Away), lets requests in flight finish, finishes diagnostics in flight, closes the database. */
  close(): Promise<void>;
}

export interface StartOptions extends Partial<ServerConfig> {
  /** Where unexpected errors go. @default console.error */
  onUnexpected?: (err: unknown, context?: string) => void;
  /** Where start-up warnings go (auth off on a public address). @default console.warn */
  onWarning?: (message: string) => void;
}

const LANDING = `<!doctype html><html><head><meta charset="utf-8"><title>Observer</title></head>
<body style="font-family: system-ui; max-width: 40rem; margin: 4rem auto; line-height: 1.5">
<h1>Observer</h1><p>The server is running. The dashboard is not built in this version yet.</p>
<ul><li><a href="/graphql">GraphiQL</a>: the GraphQL API, with live subscriptions</li>
<li><a href="/projects">/projects</a>: the legacy REST API</li><li><a href="/health">/health</a></li></ul></body></html>`;

/**
 * The request's path and query. Routing reads them only (the Host header plays no part), and
 * only the origin form (`/path?query`) is served: `//host/path` is a path here, not a host.
 */
function requestPath(target: string | undefined): URL | null {
  if (!target?.startsWith('/')) return null;
  try {
    return new URL(`http://localhost${target}`);
  } catch {
    return null;
  }
}

/**
 * Starts the server: applies migrations, then serves REST, GraphQL (HTTP and WebSocket)
 * and health on one port. `port: 0` picks a free port (tests).
 */
export async function startServer(options: StartOptions = {}): Promise<RunningServer> {
  const config: ServerConfig = { ...defaultConfig, ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) };
  const onUnexpected = options.onUnexpected ?? ((err: unknown, context?: string) => console.error(`[observer] unexpected error${context ? ` in ${context}` : ''}:`, err));
  // Before anything opens: a public address with auth unset refuses to start.
  const auth = resolveAuthMode(config.auth, config.host);
  if (auth.warning) (options.onWarning ?? ((m: string) => console.warn(`[observer] WARNING: ${m}`)))(auth.warning);
  const { db, applied, text, writableCte } = await openDatabase(config.databaseUrl);
  // Redis unreachable is an operating condition, not a bug: said once per outage, and /health shows it.
  const redisWarning = (err: unknown, context: string) => console.warn(`[observer] ${context} unreachable: ${err instanceof Error ? err.message : String(err)}`);
  const bus = config.redisUrl ? createRedisBus(config.redisUrl, config.redisPrefix, redisWarning) : createLocalBus();
  const services = createServices(db, { subscriberQueueLimit: config.subscriberQueueLimit, reportError: onUnexpected, text, writableCte, bus, judge: { leaseMs: config.judgeLeaseMs, sweepMs: config.judgeSweepMs }, keys: { adminToken: config.adminToken } });
  const yoga = createGraphQL({ services, maxDepth: config.maxQueryDepth, maxCost: config.maxQueryCost, onUnexpected, corsOrigins: config.corsOrigins });
  const rest = createRouter(restRoutes(services), {
    maxBodyBytes: config.maxBodyBytes,
    onUnexpected,
    guard: services.access,
    rules: REST_RULES,
  });
  const limiter = createRateLimiter({ ratePerSecond: config.rateLimitPerSecond, burst: config.rateLimitBurst });
  /** Who sends a request or opens a WebSocket; everyone is `open` with auth off. */
  const principalOf = (secret: string | null | undefined): Promise<Principal> =>
    auth.required ? services.keys.authenticate(secret) : Promise.resolve({ kind: 'open' });
  const hostAllowed = (host: string | undefined) => auth.required || isLoopbackHostHeader(host, config.allowedHosts);

  async function graphql(req: IncomingMessage, res: ServerResponse, url: URL, principal: Principal): Promise<void> {
    const body = req.method === 'GET' || req.method === 'HEAD' ? undefined : await readBody(req, config.maxBodyBytes);
    const headers = new Headers();
    for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers.set(k, v);
    const controller = new AbortController();
    res.on('close', () => controller.abort());
    const response = await yoga.fetch(url, { method: req.method!, headers, body, signal: controller.signal }, { principal });
    res.writeHead(response.status, Object.fromEntries(response.headers));
    if (!response.body) return void res.end();
    // Yoga's body is a whatwg-node stream (not Node's web stream): iterate it, honouring backpressure.
    try {
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
        if (!res.write(chunk)) await once(res, 'drain');
      }
      res.end();
    } catch {
      res.destroy();
    }
  }

  /** Set once a stop begins: /health says so and connections are not kept alive. */
  let draining = false;
  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      // Keep-alive clients (a balancer's pool) reconnect, to another replica, once this one drains.
      if (draining) res.setHeader('connection', 'close');
      if (!isValidHost(req.headers.host)) return sendJson(res, 400, { detail: 'Malformed Host header', code: 'BAD_REQUEST' });
      const url = requestPath(req.url);
      if (!url) return sendJson(res, 400, { detail: 'The request target must be a path beginning with /', code: 'BAD_REQUEST' });
      // A page from another website must not drive a local training server (a form POST needs no preflight).
      if (req.method !== 'GET' && req.method !== 'HEAD' && req.method !== 'OPTIONS' && !isAllowedOrigin(req.headers.origin, config.corsOrigins))
        return sendJson(res, 403, { detail: `Origin ${req.headers.origin} may not call this server; add it to CORS_ORIGINS`, code: 'FORBIDDEN_ORIGIN' });
      // With auth off, only names of this machine: a DNS-rebinding page sends its own name.
      if (!hostAllowed(req.headers.host) && url.pathname !== '/health')
        return sendJson(res, 403, { detail: `Host ${req.headers.host} is not a loopback name; with AUTH=off only localhost may be used (or list it in ALLOWED_HOSTS)`, code: 'FORBIDDEN_HOST' });
      const principal = await principalOf(credentialFromHeader(req.headers.authorization));
      const keyId = keyIdOf(principal);
      const wait = keyId === null ? 0 : limiter.take(keyId);
      if (wait > 0) {
        const err = new DomainError(ErrorCode.RATE_LIMITED, `Too many requests for this API key; retry in ${wait} s`, { retryAfter: wait });
        if (url.pathname !== yoga.graphqlEndpoint) return sendError(res, err, onUnexpected);
        res.setHeader('retry-after', String(wait));
        return sendJson(res, 429, { errors: [{ message: err.message, extensions: { code: err.code, retryAfter: wait } }] });
      }
      if (url.pathname === yoga.graphqlEndpoint) return await graphql(req, res, url, principal);
      // REST answers browsers as GraphQL does: CORS for localhost and CORS_ORIGINS, preflights included.
      const origin = req.headers.origin;
      if (req.method === 'OPTIONS') {
        res.writeHead(204, { allow: 'GET, POST, OPTIONS', ...corsHeaders(origin, config.corsOrigins, { requestHeaders: req.headers['access-control-request-headers'] }) });
        return void res.end();
      }
      for (const [k, v] of Object.entries(corsHeaders(origin, config.corsOrigins))) res.setHeader(k, v);
      if (url.pathname === '/health' && req.method === 'GET') {
        const redis = bus.state();
        // Behind a balancer (a replica id is set): which replica answered, and how many WebSockets it holds.
        const extra = {
          ...(redis === 'off' ? {} : { redis }),
          ...(config.replicaId === undefined ? {} : { replica: config.replicaId, websockets: sockets.connections() }),
        };
        let database: 'ok' | 'down' = 'ok';
        try {
          await db.$queryRaw`SELECT 1`;
        } catch (err) {
          if (!isDatabaseUnavailable(err)) throw err;
          database = 'down';
        }
        if (draining) return sendJson(res, 503, { status: 'draining', database, ...extra });
        if (database === 'down') {
          res.setHeader('retry-after', String(RETRY_AFTER_SECONDS));
          return sendJson(res, 503, { status: 'unavailable', database, ...extra });
        }
        return sendJson(res, 200, { status: 'ok', database, ...extra });
      }
      if (await rest(req, res, url, principal)) return;
      if (config.webRoot && (await serveStatic(config.webRoot, req, res, url))) return;
      if (url.pathname === '/' && req.method === 'GET') {
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
        return void res.end(LANDING);
      }
      sendJson(res, 404, { detail: 'Not Found', code: 'NOT_FOUND' });
    } catch (err) {
      sendError(res, err, onUnexpected);
    }
  }

  const server: Server = createServer((req, res) => void handle(req, res));
  server.keepAliveTimeout = 65_000;
  const sockets = attachWebSockets(server, yoga, {
    maxPayload: config.maxBodyBytes,
    corsOrigins: config.corsOrigins,
    auth: {
      authenticate: (params) => principalOf(credentialFromConnectionParams(params)),
      hostAllowed,
      maxSocketsPerKey: config.maxWebSocketsPerKey,
      maxSubscriptionsPerKey: config.maxSubscriptionsPerKey,
    },
  });
  // A key revoked on any replica closes this replica's WebSockets of that key (4403).
  services.keys.onRevoked((keyId) => sockets.closeKey(keyId));
  // And revocations whose event never came (made by the CLI without Redis, or lost while Redis was down).
  const revocationSweep = setInterval(() => {
    services.keys.revokedAmong(sockets.keyIds()).then(
      (ids) => ids.forEach((id) => sockets.closeKey(id)),
      (err) => isDatabaseUnavailable(err) || onUnexpected(err, 'revocation sweep'),
    );
  }, config.keySweepMs);
  revocationSweep.unref();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;

  let closing: Promise<void> | undefined;
  return {
    url: `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`,
    port,
    services,
    db,
    appliedMigrations: applied,
    drain() {
      draining = true;
    },
    close() {
      closing ??= (async () => {
        draining = true;
        clearInterval(revocationSweep);
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        await sockets.close();
        services.pubsub.closeAll();
        await bus.close();
        services.diagnostics.stop();
        await services.diagnostics.idle();
        setTimeout(() => server.closeAllConnections(), 2000).unref();
        await closed;
        await db.$disconnect();
      })();
      return closing;
    },
  };
}
