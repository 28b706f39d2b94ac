import { Client, cacheExchange, fetchExchange, subscriptionExchange } from 'urql';
import { createClient as createWsClient } from 'graphql-ws';

/** The only module that knows the transports: HTTP for queries, graphql-ws for subscriptions. */
const wsUrl = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/graphql`;

export const wsClient = createWsClient({ url: wsUrl, retryAttempts: Number.MAX_SAFE_INTEGER, shouldRetry: () => true, lazy: true });

export const client = new Client({
  url: '/graphql',
  exchanges: [
    cacheExchange,
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
