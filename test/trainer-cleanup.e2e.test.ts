import { afterEach, describe, expect, it } from 'vitest';
import { Observer } from '../observer/index.ts';
import { runObserved, runObserverOf } from '../web/src/features/trainer/observed-run.ts';
import { disposeAll, gql, post, startTestServer } from './helpers/server.ts';

afterEach(disposeAll);

type SessionData = { session: { status: string; logs: { msg: string; level: string }[] } };

describe("the web trainer's end of a run, against a real server", () => {
  it('marks the session failed with a log saying why, restores the console and closes the socket when training throws', async () => {
    const s = await startTestServer();
    await post(`${s.url}/projects`, { name: 'trainer' });
    const consoleError = console.error;
    const obs = await Observer.create({ projectId: 1, runName: 'throws', config: { serverUrl: s.url, carbonTrackerMode: 'offline' } });
    expect(console.error).not.toBe(consoleError);
    expect(obs.sessionId).not.toBeNull();

    const thrown = new Error('failed to allocate 4 GiB for the embedding');
    await expect(runObserved(runObserverOf(obs), () => Promise.reject(thrown))).rejects.toBe(thrown);

    expect(console.error).toBe(consoleError);
    expect(obs.connected).toBe(false);
    const { data } = await gql<SessionData>(s.url, 'query($id: Int!) { session(id: $id) { status logs { msg level } } }', { id: obs.sessionId });
    expect(data!.session.status).toBe('failed');
    expect(data!.session.logs).toContainEqual({ level: 'ERROR', msg: '[trainer] training failed: Error: failed to allocate 4 GiB for the embedding' });
  });
});
