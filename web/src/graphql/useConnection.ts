import { useSyncExternalStore } from 'react';
import { connection } from './client.ts';
import type { ConnectionSnapshot } from './connection.ts';

/** The subscription socket's state, re-rendering on each change. */
export function useConnection(): ConnectionSnapshot {
  return useSyncExternalStore(connection.subscribe, connection.get);
}
