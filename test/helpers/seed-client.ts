import { spawn } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';

/** A run of the seed's Python client (`test/fixtures/seed_client.py`, real python3): its events as it prints them. */
export interface SeedClientRun {
  /** One JSON line per event (`step`, `pending`, `stopped`...), in order. */
  readonly events: Record<string, unknown>[];
  /** What it wrote to stderr so far. */
  stderr(): string;
  /** Its exit code. */
  readonly exit: Promise<number | null>;
}

/**
 * Starts the seed's client against `baseUrl` (which may carry a key: `http://:KEY@host`) in
 * `project`, with a NaN loss at each of `nanSteps`. python3 ships with the machines (node-gyp
 * needs it to build better-sqlite3).
 */
export function runSeedClient(baseUrl: string, project: number, nanSteps: readonly number[]): SeedClientRun {
  const child = spawn('python3', [path.join(import.meta.dirname, '../fixtures/seed_client.py'), baseUrl, String(project), nanSteps.join(',')], { stdio: ['ignore', 'pipe', 'pipe'] });
  const events: Record<string, unknown>[] = [];
  let stderr = '';
  // Whole lines only: a chunk of stdout can end in the middle of one.
  createInterface({ input: child.stdout }).on('line', (l) => events.push(JSON.parse(l)));
  child.stderr.on('data', (d: Buffer) => (stderr += d));
  return { events, stderr: () => stderr, exit: new Promise((r) => child.on('exit', r)) };
}
