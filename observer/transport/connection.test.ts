import type { AddressInfo } from 'node:net';
import { afterEach, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { ManualClock } from '../clock.ts';
import { backoff, Connection } from './connection.ts';

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanup.length) await cleanup.pop()!();
});

/** Polls a condition (real time) until it holds. */
async function until(cond: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

it('waits 250 ms, then 500 ms, 1 s... of its clock between reconnects, never less, up to 5 s', async () => {
  // A real WebSocket server that drops every connection at once.
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await new Promise((r) => wss.once('listening', r));
  cleanup.push(() => new Promise<void>((r) => wss.close(() => r())));
  const clock = new ManualClock(0);
  const attempts: number[] = [];
  wss.on('connection', (socket) => {
    attempts.push(clock.now());
    socket.terminate();
  });
  const connection = new Connection(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}`, { maxMessageBytes: 1 << 20, clock });
  cleanup.push(() => connection.close());
  await connection.open();
  await until(() => attempts.length === 1, 'the first connection');
  for (let retry = 0; retry < 7; retry++) {
    const wait = backoff(retry);
    await until(() => clock.nextIn === wait, `the wait before reconnect ${retry + 1} is set`);
    clock.advance(wait - 1);
    // Still waiting a millisecond short of the backoff: no new connection was tried.
    expect(clock.nextIn).toBe(1);
    expect(attempts).toHaveLength(retry + 1);
    clock.advance(1);
    await until(() => attempts.length === retry + 2, `reconnect ${retry + 1}`);
  }
  const gaps = attempts.slice(1).map((t, i) => t - attempts[i]!);
  expect(gaps).toEqual([250, 500, 1000, 2000, 4000, 5000, 5000]);
  expect(connection.connected).toBe(false);
});
