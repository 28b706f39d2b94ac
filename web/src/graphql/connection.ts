/**
 * The subscription socket's state as the pages show it: live, or reconnecting and why. Fed by
 * graphql-ws's `connecting`, `connected` and `closed` events (client.ts); read with
 * `useSyncExternalStore`. Every reconnection is counted, so a page re-reads what it missed
 * while the socket was down (a new subscription only sees events from then on).
 */
import { socketError } from './socket-error.ts';

export interface ConnectionSnapshot {
  /** `idle`: no socket needed (no subscription); `reconnecting`: lost, retrying by itself. */
  state: 'idle' | 'connecting' | 'connected' | 'reconnecting';
  /** Why the socket was lost, while reconnecting. */
  reason: string | null;
  /** Connections made again after a loss. */
  reconnects: number;
}

export interface ConnectionStore {
  get(): ConnectionSnapshot;
  subscribe(listener: () => void): () => void;
  connecting(isRetry: boolean): void;
  connected(wasRetry: boolean): void;
  closed(event: unknown): void;
}

/** A normal close: graphql-ws's lazy client closes with 1000 once no subscription needs it. */
const NORMAL_CLOSURE = 1000;

export function createConnectionStore(): ConnectionStore {
  let snapshot: ConnectionSnapshot = { state: 'idle', reason: null, reconnects: 0 };
  const listeners = new Set<() => void>();
  const set = (next: Partial<ConnectionSnapshot>) => {
    snapshot = { ...snapshot, ...next };
    for (const l of listeners) l();
  };
  return {
    get: () => snapshot,
    subscribe(listener) {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
    connecting: (isRetry) => set({ state: isRetry || snapshot.state === 'reconnecting' ? 'reconnecting' : 'connecting' }),
    connected: (wasRetry) => set({ state: 'connected', reason: null, reconnects: snapshot.reconnects + (wasRetry ? 1 : 0) }),
    closed(event) {
      const code = typeof event === 'object' && event !== null && 'code' in event ? event.code : null;
      if (code === NORMAL_CLOSURE) set({ state: 'idle', reason: null });
      else set({ state: 'reconnecting', reason: socketError(event).message });
    },
  };
}
