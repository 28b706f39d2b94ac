import { Client, cacheExchange, fetchExchange, mapExchange, subscriptionExchange } from 'urql';
import { createClient as createWsClient } from 'graphql-ws';
import { authHeaders, KEY_REFUSED, storedApiKey } from './api-key.ts';

/** The only module that knows the transports: HTTP for queries, graphql-ws for subscriptions. */
const wsUrl = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/graphql`;

/** A key the server refuses (401, or a WebSocket closed with 4403) sends the app back to its key prompt. */
const refused = () => dispatchEvent(new Event(KEY_REFUSED));

export const wsClient = createWsClient({
  url: wsUrl,
  retryAttempts: Number.MAX_SAFE_INTEGER,
  shouldRetry: () => true,
  lazy: true,
  connectionParams: () => {
    const apiKey = storedApiKey();
    return apiKey ? { apiKey } : {};
  },
  on: { closed: (e) => void ((e as { code?: number }).code === 4403 && refused()) },
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
        const input = { ...request, query: request.query || '' };
        return { subscribe: (sink) => ({ unsubscribe: wsClient.subscribe(input, sink) }) };
      },
    }),
  ],
  requestPolicy: 'cache-and-network',
});

// In its own module so code tested in Node can read metrics without this one's browser globals.
export { metric } from './metric.ts';
