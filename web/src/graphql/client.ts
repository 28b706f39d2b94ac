import { Client, cacheExchange, fetchExchange, mapExchange, subscriptionExchange, type ExecutionResult } from 'urql';
import { createClient as createWsClient } from 'graphql-ws';
import { authHeaders, KEY_REFUSED, storedApiKey } from './api-key.ts';
import { createConnectionStore } from './connection.ts';
import { socketError } from './socket-error.ts';

/**
 * The only module that knows the transports: HTTP for queries and mutations, graphql-ws for
 * subscriptions through urql's own `subscriptionExchange`, so pages use `useSubscription`.
 */
const wsUrl = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/graphql`;

/** A key the server refuses (401, or a WebSocket closed with 4403) sends the app back to its key prompt. */
const refused = () => dispatchEvent(new Event(KEY_REFUSED));

/** The subscription socket's state (see `useConnection`). */
export const connection = createConnectionStore();

const wsClient = createWsClient({
  url: wsUrl,
  retryAttempts: Number.MAX_SAFE_INTEGER,
  shouldRetry: () => true,
  lazy: true,
  connectionParams: () => {
    const apiKey = storedApiKey();
    return apiKey ? { apiKey } : {};
  },
  on: {
    connecting: (isRetry) => connection.connecting(isRetry),
    connected: (_socket, _payload, wasRetry) => connection.connected(wasRetry),
    closed: (e) => {
      connection.closed(e);
      if ((e as { code?: number }).code === 4403) refused();
    },
  },
});

export const client = new Client({
  url: '/graphql',
  fetchOptions: () => ({ headers: authHeaders(storedApiKey()) }),
  exchanges: [
    cacheExchange,
    mapExchange({ onError: (error) => void (error.graphQLErrors.some((e) => e.extensions?.code === 'UNAUTHENTICATED') && refused()) }),
    fetchExchange,
    subscriptionExchange({
      forwardSubscription(request) {
        const input = { ...request, query: request.query ?? '' };
        return {
          subscribe: (sink) => ({
            // graphql-ws ends a subscription with GraphQL errors (an array, which urql reads as
            // such) or with the socket's close event, which urql needs as an Error to say why.
            unsubscribe: wsClient.subscribe(input, {
              next: (result: ExecutionResult) => sink.next(result),
              complete: () => sink.complete(),
              error: (e) => sink.error(Array.isArray(e) ? e : socketError(e)),
            }),
          }),
        };
      },
    }),
  ],
  requestPolicy: 'cache-and-network',
});
