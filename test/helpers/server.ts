import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { startServer, type RunningServer, type StartOptions } from '../../server/app.ts';
import { freshPostgresDatabase } from './postgres.ts';

/** Everything a test opened, closed in reverse order by `disposeAll`. */
const leftovers: (() => Promise<void> | void)[] = [];

/** Runs `f` when the test's resources are closed (after everything opened later). */
export function defer(f: () => Promise<void> | void): void {
  leftovers.push(f);
}

export async function disposeAll(): Promise<void> {
  while (leftovers.length) await leftovers.pop()!();
}

/** A fresh temporary folder, removed after the test. */
export function tempDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'observer-test-'));
  leftovers.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/**
 * The database end-to-end suites run on: a temporary SQLite file, or with
 * OBSERVER_TEST_DB=postgres (the `postgres` test project) a fresh PostgreSQL database, dropped
 * after the test.
 */
export const TEST_DB = process.env.OBSERVER_TEST_DB === 'postgres' ? 'postgres' : 'sqlite';

/** A fresh database for one test, of the kind `TEST_DB` names. */
export async function testDatabaseUrl(): Promise<string> {
  if (TEST_DB === 'sqlite') return `file:${path.join(tempDir(), 'app.db')}`;
  const { url, drop } = await freshPostgresDatabase();
  leftovers.push(drop);
  return url;
}

/** The real server on a random port with a fresh database (see `testDatabaseUrl`). */
export async function startTestServer(opts: StartOptions = {}): Promise<RunningServer & { wsUrl: string }> {
  const databaseUrl = opts.databaseUrl ?? (await testDatabaseUrl());
  const unexpected: unknown[] = [];
  const server = await startServer({ port: 0, databaseUrl, onUnexpected: (e) => unexpected.push(e), ...opts });
  leftovers.push(async () => {
    await server.close();
    // An unexpected error is a bug even when the request that caused it was answered.
    if (unexpected.length) throw new Error(`server reported unexpected errors: ${unexpected.map(String).join('; ')}`);
  });
  return { ...server, wsUrl: server.url.replace(/^http/, 'ws') + '/graphql' };
}

/** A real graphql-ws client. */
export function wsClient(url: string): Client {
  const client = createClient({ url, webSocketImpl: WebSocket, retryAttempts: 0, lazy: true });
  leftovers.push(() => client.dispose());
  return client;
}

/** Collects a subscription's results into an array as they arrive. */
export function collect<T = Record<string, unknown>>(client: Client, query: string, variables: Record<string, unknown>) {
  const events: T[] = [];
  const errors: unknown[] = [];
  const unsubscribe = client.subscribe<T>(
    { query, variables },
    {
      next: (r) => (r.errors ? errors.push(r.errors) : events.push(r.data as T)),
      error: (e) => errors.push(e),
      complete: () => {},
    },
  );
  leftovers.push(unsubscribe);
  return { events, errors, unsubscribe };
}

/** Polls until the condition holds (no bare sleeps in tests). */
export async function waitUntil(cond: () => boolean | Promise<boolean>, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** POSTs a raw body (so tests can send Python's NaN tokens) and parses the answer leniently. */
export async function post(url: string, body: string | object, headers: Record<string, string> = { 'content-type': 'application/json' }) {
  const res = await fetch(url, { method: 'POST', headers, body: typeof body === 'string' ? body : JSON.stringify(body) });
  return { status: res.status, text: await res.text() };
}

/** A GraphQL request over HTTP. */
export async function gql<T = Record<string, unknown>>(base: string, query: string, variables: Record<string, unknown> = {}) {
  const res = await fetch(`${base}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query, variables }) });
  return { status: res.status, ...((await res.json()) as { data?: T; errors?: { message: string; extensions?: { code?: string } }[] }) };
}
