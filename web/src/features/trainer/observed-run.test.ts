import { describe, expect, it } from 'vitest';
import { runObserved, type RunObserver } from './observed-run.ts';

/** A fake observer that records what the run's end asked of it, in order. */
function fakeObserver(fail: () => Promise<void> = async () => {}) {
  const calls: string[] = [];
  const obs: RunObserver = {
    fail: () => (calls.push('fail'), fail()),
    close: async () => void calls.push('close'),
  };
  return { obs, calls };
}

describe('runObserved', () => {
  it('closes the observer and returns the outcome when the run ends normally', async () => {
    const { obs, calls } = fakeObserver();
    const logs: string[] = [];
    await expect(runObserved(obs, async () => 'finished', { log: (m) => logs.push(m) })).resolves.toBe('finished');
    expect(calls).toEqual(['close']);
    expect(logs).toEqual([]);
  });

  it('logs why, marks the session failed, closes, and rethrows when the run throws', async () => {
    const { obs, calls } = fakeObserver();
    const logs: string[] = [];
    const boom = new Error('failed to allocate 4 GiB');
    await expect(runObserved(obs, async () => Promise.reject(boom), { log: (m) => (logs.push(m), calls.push('log')) })).rejects.toBe(boom);
    expect(calls).toEqual(['log', 'fail', 'close']);
    expect(logs).toEqual(['[trainer] training failed: Error: failed to allocate 4 GiB']);
  });

  it('closes even when the server refuses the failure (the session had already ended)', async () => {
    const { obs, calls } = fakeObserver(() => Promise.reject(new Error('the session has already ended (stopped)')));
    await expect(runObserved(obs, () => Promise.reject(new TypeError('x is undefined')), { log: () => {} })).rejects.toThrow(TypeError);
    expect(calls).toEqual(['fail', 'close']);
  });

  it('stops waiting for an unreachable server after decisionSeconds and still closes', async () => {
    const { obs, calls } = fakeObserver(() => new Promise(() => {}));
    const waited: number[] = [];
    const sleep = async (ms: number) => void waited.push(ms);
    await expect(runObserved(obs, () => Promise.reject(new Error('lost context')), { log: () => {}, decisionSeconds: 2, sleep })).rejects.toThrow('lost context');
    expect(waited).toEqual([2000]);
    expect(calls).toEqual(['fail', 'close']);
  });
});
