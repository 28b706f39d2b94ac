import { once } from 'node:events';
import type { Server } from 'node:http';
import { setTimeout as delay } from 'node:timers/promises';
import { GraphQLError, type ExecutionArgs } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import type { YogaServerInstance } from 'graphql-yoga';
import { WebSocketServer, type WebSocket } from 'ws';
import { isAuthenticated, keyIdOf, type Principal } from '../auth/principal.ts';
import { isAllowedOrigin } from '../lib/origin.ts';
import type { GraphQLContext } from './builder.ts';

/**
 * WebSocket close codes: 1001 for a server going away (RFC 6455); graphql-ws's 4403 Forbidden
 * for a bad key or a revoked one; 4429 when a key holds too many WebSockets already; 1013
 * (try again later) when the key cannot be checked (the database is down).
 */
const CloseCode = { GoingAway: 1001, TryAgainLater: 1013, Forbidden: 4403, TooManyConnections: 4429 } as const;

/** Who may open WebSockets, and how many each key may hold. */
interface WebSocketAuth {
  /** The principal of a `connection_init` payload (`{ apiKey }` or `{ authorization }`). */
  authenticate(connectionParams: Readonly<Record<string, unknown>> | undefined): Promise<Principal>;
  /** Whether the upgrade's Host header is acceptable (the DNS-rebinding guard with auth off). */
  hostAllowed(host: string | undefined): boolean;
  maxSocketsPerKey: number;
  maxSubscriptionsPerKey: number;
}

/** A connection past `connection_init`: its principal and its operations in flight. */
interface SocketState {
  principal: Principal;
  operations: Set<string>;
}
/** How long closing WebSockets may take to answer the close frame. */
const CLOSE_HANDSHAKE_MS = 1000;

/**
 * graphql-ws on the same path and port as HTTP GraphQL, through yoga's `getEnveloped`, so
 * WebSocket operations get the same schema, context, limits and error masking.
 * @returns a function that closes every socket with 1001 (Going Away)
 */
export function attachWebSockets(
  server: Server,
  yoga: YogaServerInstance<Record<string, unknown>, GraphQLContext>,
  opts: { maxPayload: number; corsOrigins: readonly string[]; auth: WebSocketAuth },
): { close: () => Promise<void>; connections: () => number; closeKey: (keyId: number) => void; keyIds: () => number[] } {
  const wss = new WebSocketServer({
    server,
    path: yoga.graphqlEndpoint,
    maxPayload: opts.maxPayload,
    // Browsers do not apply CORS to WebSockets: refuse pages from other websites here.
    verifyClient: ({ origin, req }: { origin?: string; req: { headers: { host?: string } } }) =>
      isAllowedOrigin(origin, opts.corsOrigins) && opts.auth.hostAllowed(req.headers.host),
  });
  const states = new Map<WebSocket, SocketState>();
  const ofKey = (keyId: number) => [...states.values()].filter((s) => keyIdOf(s.principal) === keyId);
  // A message over maxPayload is the client's mistake: ws closes that socket with 1009 by itself.
  // graphql-ws would also log it as an "internal error" of ours; keep that event from it.
  // (Registered before useServer, so this runs before graphql-ws sees the socket.)
  wss.on('connection', (socket) => {
    const emit = socket.emit.bind(socket) as (event: string | symbol, ...args: unknown[]) => boolean;
    socket.emit = ((event: string | symbol, ...args: unknown[]) =>
      event === 'error' && (args[0] as { code?: string } | undefined)?.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH' ? true : emit(event, ...args)) as typeof socket.emit;
  });
  type Enveloped = ReturnType<typeof yoga.getEnveloped>;
  type Root = { execute: Enveloped['execute']; subscribe: Enveloped['subscribe'] };
  const disposable = useServer<Record<string, unknown> | undefined, { socket: WebSocket; request: unknown }>(
    {
      // A bad, revoked or missing key closes the socket with 4403 before any operation.
      onConnect: async (ctx) => {
        let principal: Principal;
        try {
          principal = await opts.auth.authenticate(ctx.connectionParams);
        } catch {
          // The key could not be looked up (the database is down): not the client's fault, retry later.
          ctx.extra.socket.close(CloseCode.TryAgainLater, 'Cannot check the API key right now; try again');
          return false;
        }
        if (!isAuthenticated(principal)) return false;
        const keyId = keyIdOf(principal);
        if (keyId !== null && ofKey(keyId).length >= opts.auth.maxSocketsPerKey) {
          ctx.extra.socket.close(CloseCode.TooManyConnections, `This API key holds ${opts.auth.maxSocketsPerKey} WebSockets already`);
          return false;
        }
        states.set(ctx.extra.socket, { principal, operations: new Set() });
        ctx.extra.socket.once('close', () => states.delete(ctx.extra.socket));
        return true;
      },
      onComplete: (ctx, id) => void states.get(ctx.extra.socket)?.operations.delete(id),
      execute: (args: ExecutionArgs) => (args.rootValue as Root).execute(args),
      subscribe: (args: ExecutionArgs) => (args.rootValue as Root).subscribe(args),
      onSubscribe: async (ctx, id, params) => {
        const state = states.get(ctx.extra.socket);
        // onConnect accepted every socket that reaches here; a revoked one is closing.
        if (!state) return [new GraphQLError('Not authenticated', { extensions: { code: 'UNAUTHENTICATED' } })];
        const keyId = keyIdOf(state.principal);
        if (keyId !== null && ofKey(keyId).reduce((n, s) => n + s.operations.size, 0) >= opts.auth.maxSubscriptionsPerKey)
          return [new GraphQLError(`This API key holds ${opts.auth.maxSubscriptionsPerKey} subscriptions already`, { extensions: { code: 'TOO_MANY_SUBSCRIPTIONS' } })];
        const { schema, execute, subscribe, contextFactory, parse, validate } = yoga.getEnveloped({
          ...ctx,
          req: ctx.extra.request,
          socket: ctx.extra.socket,
          params,
          principal: state.principal,
        });
        let document;
        try {
          document = parse(params.query);
        } catch (err) {
          return [err instanceof GraphQLError ? err : new GraphQLError(String(err))];
        }
        const errors = validate(schema, document);
        if (errors.length) return errors;
        // Counted once it runs; onComplete forgets it (also after an execution error).
        state.operations.add(id);
        const args: ExecutionArgs = {
          schema,
          operationName: params.operationName ?? null,
          document,
          variableValues: params.variables ?? null,
          contextValue: await contextFactory(),
          rootValue: { execute, subscribe } satisfies Root,
        };
        return args;
      },
    },
    wss,
  );
  const close = async () => {
    // 1001 Going Away: graphql-ws clients retry it, reaching another replica behind a balancer.
    const open = [...wss.clients];
    const closed = Promise.all(open.map((client) => (client.readyState === client.CLOSED ? undefined : once(client, 'close'))));
    for (const client of open) client.close(CloseCode.GoingAway, 'Going away');
    // A client that does not answer the closing handshake is cut off (ws would wait 30 s for it).
    await Promise.race([closed, delay(CLOSE_HANDSHAKE_MS, undefined, { ref: false })]);
    for (const client of wss.clients) client.terminate();
    await disposable.dispose();
    await new Promise<void>((resolve) => wss.close(() => resolve()));
  };
  /** Closes, with 4403, every WebSocket this replica holds for a revoked key. */
  const closeKey = (keyId: number) => {
    for (const [socket, state] of states) if (keyIdOf(state.principal) === keyId) socket.close(CloseCode.Forbidden, 'API key revoked');
  };
  const keyIds = () => [...new Set([...states.values()].flatMap((s) => keyIdOf(s.principal) ?? []))];
  return { close, connections: () => wss.clients.size, closeKey, keyIds };
}
