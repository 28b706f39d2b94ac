import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { seedSession, seedStep } from './helpers/payloads.ts';
import { unusedPostgresDatabase } from './helpers/postgres.ts';
import { defer, disposeAll, post, startTestServer, tempDir, TEST_DB, testDatabaseUrl } from './helpers/server.ts';

afterEach(disposeAll);

const ROOT = path.resolve(import.meta.dirname, '..');

async function missingPostgresDatabase(): Promise<string> {
  const { url, drop } = await unusedPostgresDatabase();
  defer(drop);
  return url;
}

/** Starts `npm start`'s entry point as its own process and resolves with its URL. */
function spawnServer(databaseUrl: string): Promise<{ child: ChildProcess; url: string; output: () => string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts'], {
    cwd: ROOT,
    env: { ...process.env, PORT: '0', DATABASE_URL: databaseUrl },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${out}`)), 20_000);
    child.stdout!.on('data', () => {
      const m = /serving on (http:\/\/\S+) /.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ child, url: m[1]!, output: () => out });
      }
    });
    child.once('exit', (code) => reject(new Error(`server exited (${code}):\n${out}`)));
  });
}

const exited = (child: ChildProcess) => new Promise<number | null>((r) => (child.exitCode !== null ? r(child.exitCode) : child.once('exit', (code) => r(code))));

// Each test starts the server as its own process (tsx compiles on start): slow while browser suites share the 2 cores.
describe('durability', { timeout: 90_000 }, () => {
  it('keeps every step answered 2xx across a kill -9 of the server', async () => {
    const databaseUrl = await testDatabaseUrl();
    const first = await spawnServer(databaseUrl);
    await post(`${first.url}/projects`, { name: 'p' });
    await post(`${first.url}/sessions/project/1`, seedSession('crash'));
    const answered: number[] = [];
    await Promise.all(
      Array.from({ length: 40 }, async (_, i) => {
        if ((await post(`${first.url}/sessions/1/step`, seedStep(i))).status === 200) answered.push(i);
      }),
    );
    expect(answered).toHaveLength(40);
    first.child.kill('SIGKILL');
    await exited(first.child);

    const second = await spawnServer(databaseUrl);
    try {
      const steps = (await (await fetch(`${second.url}/sessions/1/steps`)).json()) as { items: { step_index: number }[] };
      expect(steps.items.map((s) => s.step_index).sort((a, b) => a - b)).toEqual(answered.sort((a, b) => a - b));
      expect(second.output()).not.toContain('applied migrations');
    } finally {
      second.child.kill('SIGTERM');
      expect(await exited(second.child)).toBe(0);
    }
  });

  it('applies migrations once, and a second start applies nothing', async () => {
    // SQLite: a file in folders that do not exist yet; PostgreSQL: a database the server creates.
    const databaseUrl = TEST_DB === 'sqlite' ? `file:${path.join(tempDir(), 'nested', 'dir', 'app.db')}` : await missingPostgresDatabase();
    const a = await startTestServer({ databaseUrl });
    expect(a.appliedMigrations.length).toBeGreaterThan(0);
    await a.close();
    const b = await startTestServer({ databaseUrl });
    expect(b.appliedMigrations).toEqual([]);
  });

  it('closes cleanly on SIGTERM', async () => {
    const s = await spawnServer(await testDatabaseUrl());
    expect((await fetch(`${s.url}/health`)).status).toBe(200);
    s.child.kill('SIGTERM');
    expect(await exited(s.child)).toBe(0);
    expect(s.output()).toContain('closing connections and the database');
  });
});
