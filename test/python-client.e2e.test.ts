import { spawn } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, bearer, createKey } from './helpers/auth.ts';
import { disposeAll, post, startTestServer, waitUntil } from './helpers/server.ts';
import { runSeedClient } from './helpers/seed-client.ts';

afterEach(disposeAll);

// python3 ships with the machines (node-gyp needs it to build better-sqlite3).
describe("the seed's Python Observer client (real python3, urllib, json.dumps)", () => {
  it('pauses on its NaN loss, continues when resumed, and ends when stopped', async () => {
    const s = await startTestServer();
    await post(`${s.url}/projects`, { name: 'python' });
    const { events, stderr, exit } = runSeedClient(s.url, 1, [3, 12]);

    await waitUntil(() => events.some((e) => e.event === 'pending'), 'the client sees pending after its NaN step', 20_000);
    expect(events.find((e) => e.event === 'step' && e.step === 3)).toEqual({ event: 'step', step: 3, nan: true });
    await post(`${s.url}/sessions/1/action`, { action: 'resume' });
    await waitUntil(() => events.some((e) => e.event === 'step' && e.step === 10), 'training continues after resume', 20_000);
    // Stop while it waits on its second NaN: it must see "stopped" on its next poll.
    await waitUntil(() => events.some((e) => e.event === 'pending' && e.step === 12), 'the second NaN pauses it', 20_000);
    await post(`${s.url}/sessions/1/action`, { action: 'stop' });
    expect(await exit).toBe(0);
    expect(stderr()).toBe('');
    expect(events.at(-1)).toMatchObject({ event: 'stopped', status: 'stopped' });
    expect(await s.db.sessionLog.count()).toBe(1);
  });
});

describe("the seed's Python client against a server that requires keys", () => {
  it('trains with a write key in its base URL (http://:KEY@host, sent as HTTP Basic), and pauses on its NaN', async () => {
    const s = await startTestServer({ auth: 'required', adminToken: ADMIN_TOKEN });
    await post(`${s.url}/projects`, { name: 'python' }, bearer(ADMIN_TOKEN));
    const key = await createKey(s.url, 1, 'write');
    const base = s.url.replace('http://', `http://:${key.secret}@`);
    const { events, stderr, exit } = runSeedClient(base, 1, [3]);
    await waitUntil(() => events.some((e) => e.event === 'pending'), 'the client sees pending after its NaN step', 15_000);
    expect(events.find((e) => e.event === 'step' && e.step === 3)).toEqual({ event: 'step', step: 3, nan: true });
    expect((await post(`${s.url}/sessions/1/action`, { action: 'stop' }, bearer(key.secret))).status).toBe(200);
    expect(await exit).toBe(0);
    expect(stderr()).toBe('');
    expect(events.at(-1)).toMatchObject({ event: 'stopped', status: 'stopped' });
  });

  it('is refused with 401 without the key, and requests itself sends the key of http://:KEY@host as Basic', async () => {
    const s = await startTestServer({ auth: 'required', adminToken: ADMIN_TOKEN });
    await post(`${s.url}/projects`, { name: 'python' }, bearer(ADMIN_TOKEN));
    const key = await createKey(s.url, 1, 'read');
    const script = `import sys, urllib.request, urllib.error
try:
    urllib.request.urlopen(sys.argv[1] + "/projects")
except urllib.error.HTTPError as e:
    print(e.code, e.headers.get("WWW-Authenticate"))
try:
    import requests
except ImportError:
    print("no requests")
    sys.exit(0)
r = requests.get(sys.argv[1].replace("http://", "http://:" + sys.argv[2] + "@") + "/projects")
print(r.status_code, r.json()[0]["name"])`;
    const out = await new Promise<string>((resolve, reject) => {
      const child = spawn('python3', ['-c', script, s.url, key.secret], { stdio: ['ignore', 'pipe', 'inherit'] });
      let text = '';
      child.stdout.on('data', (d: Buffer) => (text += d));
      child.on('exit', (code) => (code === 0 ? resolve(text) : reject(new Error(`python exited ${code}`))));
    });
    const [refused, withRequests] = out.trim().split('\n');
    expect(refused).toMatch(/^401 Bearer/);
    // The machines' python3 has requests; where it does not, urllib's path above is what is tested.
    if (withRequests !== 'no requests') expect(withRequests).toBe('200 python');
  });
});
