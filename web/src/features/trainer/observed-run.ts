/**
 * The end of a run, whatever way it ends: the one place that owns the observer once it exists.
 * Free of tfjs, so the cleanup can be tested with a fake observer.
 */
import type { Observer } from '@observer/tfjs';

/** What a run's end needs of its observer (the real one is `Observer`). */
export interface RunObserver {
  /** Asks the server to end the session as failed. */
  fail(): Promise<void>;
  /** Sends what is left (the failure's log line included), restores the console, closes the socket. */
  close(): Promise<void>;
}

/** Options of {@link runObserved}. */
export interface ObservedRunOptions {
  /** Writes why the run failed where the observer captures it (the console). @default console.error */
  log?: (message: string) => void;
  /** How long the failure decision may wait for the server (an unreachable one never answers). @default 5 */
  decisionSeconds?: number;
  /** Resolves after `ms` (injectable for tests). @default setTimeout */
  sleep?: (ms: number) => Promise<void>;
}

/** The Observer as a {@link RunObserver}. */
export function runObserverOf(obs: Pick<Observer, 'decide' | 'close'>): RunObserver {
  // The server's SessionAction has `fail`; decide() does not list it (yet), though it sends any action.
  const failable = obs as unknown as { decide(action: 'fail'): Promise<void> };
  return { fail: () => failable.decide('fail'), close: () => obs.close() };
}

const sleepFor = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Runs `run` with the observer, then closes it on every path out: return, throw, stop. A
 * throw (anything `run` did not turn into an outcome) is logged and the session marked
 * `failed` before the observer closes, so it never stays `running`; the error then goes on
 * to the caller.
 */
export async function runObserved<T>(obs: RunObserver, run: () => Promise<T>, opts: ObservedRunOptions = {}): Promise<T> {
  const { log = (m) => console.error(m), decisionSeconds = 5, sleep = sleepFor } = opts;
  try {
    return await run();
  } catch (e) {
    log(`[trainer] training failed: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
    // The session may already have ended (stopped from a dashboard): that refusal is no news.
    await Promise.race([obs.fail().catch(() => undefined), sleep(decisionSeconds * 1000)]);
    throw e;
  } finally {
    await obs.close();
  }
}
