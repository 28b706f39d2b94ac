import { once } from 'node:events';
import type { Server } from 'node:http';
import { setTimeout as delay } from 'node:timers/promises';
import { GraphQLError, type ExecutionArgs } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import type { YogaServerInstance } from 'graphql-yoga';
import { WebSocketServer } from 'ws';
import { isAllowedOrigin } from '../lib/origin.ts';
import type { GraphQLContext } from './builder.ts';

/** WebSocket close code for a server going away (RFC 6455). */
const CloseCode = { GoingAway: 1001 } as const;
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
  opts: { maxPayload: number; corsOrigins: readonly string[] },
): { close: () => Promise<void>; connections: () => number } {
  const wss = new WebSocketServer({
    server,
    path: yoga.graphqlEndpoint,
    maxPayload: opts.maxPayload,
    // Browsers do not apply CORS to WebSockets: refuse pages from other websites here.
    verifyClient: ({ origin }: { origin?: string }) => isAllowedOrigin(origin, opts.corsOrigins),
  });
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
  const disposable = useServer(
    {
      execute: (args: ExecutionArgs) => (args.rootValue as Root).execute(args),
      subscribe: (args: ExecutionArgs) => (args.rootValue as Root).subscribe(args),
      onSubscribe: async (ctx, _id, params) => {
        const { schema, execute, subscribe, contextFactory, parse, validate } = yoga.getEnveloped({
          ...ctx,
          req: ctx.extra.request,
          socket: ctx.extra.socket,
          params,
        });
        let document;
        try {
          document = parse(params.query);
        } catch (err) {
          return [err instanceof GraphQLError ? err : new GraphQLError(String(err))];
        }
        const errors = validate(schema, document);
        if (errors.length) return errors;
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
  return { close, connections: () => wss.clients.size };
}
