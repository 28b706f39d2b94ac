import { spawn } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, describe, expect, it } from 'vitest';
import { disposeAll, post, startTestServer, waitUntil } from './helpers/server.ts';

afterEach(disposeAll);

// python3 ships with the machines (node-gyp needs it to build better-sqlite3).
describe("the seed's Python Observer client (real python3, urllib, json.dumps)", () => {
  it('pauses on its NaN loss, continues when resumed, and ends when stopped', async () => {
    const s = await startTestServer();
    await post(`${s.url}/projects`, { name: 'python' });
    const child = spawn('python3', [path.join(import.meta.dirname, 'fixtures/seed_client.py'), s.url, '1', '3,12'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const events: Record<string, unknown>[] = [];
    let stderr = '';
    // Whole lines only: a chunk of stdout can end in the middle of one.
    createInterface({ input: child.stdout }).on('line', (l) => events.push(JSON.parse(l)));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    const exit = new Promise<number | null>((r) => child.on('exit', r));

    await waitUntil(() => events.some((e) => e.event === 'pending'), 'the client sees pending after its NaN step');
    expect(events.find((e) => e.event === 'step' && e.step === 3)).toEqual({ event: 'step', step: 3, nan: true });
    await post(`${s.url}/sessions/1/action`, { action: 'resume' });
    await waitUntil(() => events.some((e) => e.event === 'step' && e.step === 10), 'training continues after resume');
    // Stop while it waits on its second NaN: it must see "stopped" on its next poll.
    await waitUntil(() => events.some((e) => e.event === 'pending' && e.step === 12), 'the second NaN pauses it');
    await post(`${s.url}/sessions/1/action`, { action: 'stop' });
    expect(await exit).toBe(0);
    expect(stderr).toBe('');
    expect(events.at(-1)).toMatchObject({ event: 'stopped', status: 'stopped' });
    expect(await s.db.sessionLog.count()).toBe(1);
  });
});
