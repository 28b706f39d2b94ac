import { describe, expect, it } from 'vitest';
import { createConnectionStore } from './connection.ts';

describe('createConnectionStore', () => {
  it('goes live, says why it lost the socket while it retries, and counts the reconnection', () => {
    const store = createConnectionStore();
    const seen: string[] = [];
    store.subscribe(() => seen.push(store.get().state));
    store.connecting(false);
    store.connected(false);
    expect(store.get()).toEqual({ state: 'connected', reason: null, reconnects: 0 });
    store.closed({ code: 1001, reason: '' });
    expect(store.get()).toMatchObject({ state: 'reconnecting', reason: 'the connection closed with 1001: the server is going away' });
    store.connecting(true);
    store.connected(true);
    expect(store.get()).toEqual({ state: 'connected', reason: null, reconnects: 1 });
    expect(seen).toEqual(['connecting', 'connected', 'reconnecting', 'reconnecting', 'connected']);
  });

  it('is idle, not reconnecting, after the lazy client closes an unneeded socket', () => {
    const store = createConnectionStore();
    store.connecting(false);
    store.connected(false);
    store.closed({ code: 1000, reason: 'Normal Closure' });
    expect(store.get().state).toBe('idle');
  });

  it('stops telling a listener once it unsubscribes', () => {
    const store = createConnectionStore();
    let calls = 0;
    const stop = store.subscribe(() => calls++);
    store.connecting(false);
    stop();
    store.connected(false);
    expect(calls).toBe(1);
  });
});
