/**
 * Where the observer's timeouts read the time: the pending timeout, the wait for a verdict, the
 * first wait for the session, the reconnect and re-subscribe backoff. The system clock by
 * default; a {@link ManualClock} in tests, so a 39-second timeout runs in milliseconds.
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Calls `f` once after `ms` milliseconds; returns the cancel (a no-op once it ran). */
  after(ms: number, f: () => void): () => void;
}

/** The real time: `Date.now()` and `setTimeout`. */
export const systemClock: Clock = {
  now: () => Date.now(),
  after(ms, f) {
    const timer = setTimeout(f, ms);
    return () => clearTimeout(timer);
  },
};

/** Resolves after `ms` milliseconds of `clock`. */
export function sleep(clock: Clock, ms: number): Promise<void> {
  return new Promise((resolve) => clock.after(ms, resolve));
}

interface Timer {
  at: number;
  seq: number;
  f: () => void;
}

/**
 * A clock that moves only when told. `advance(ms)` runs every timer due within `ms`, in time
 * order (timers a callback sets are run too when they fall due within the same advance), and
 * leaves the time at the end of the span.
 *
 * @example
 * ```ts
 * const clock = new ManualClock();
 * const obs = await Observer.create({ projectId: 1, clock, onPending: () => clock.advance(39_000) });
 * ```
 */
export class ManualClock implements Clock {
  private time: number;
  private seq = 0;
  private readonly timers = new Set<Timer>();

  /** @param start the time it shows first, ms since the epoch (default: the real time now) */
  constructor(start: number = Date.now()) {
    this.time = start;
  }

  now(): number {
    return this.time;
  }

  after(ms: number, f: () => void): () => void {
    const timer: Timer = { at: this.time + Math.max(0, ms), seq: this.seq++, f };
    this.timers.add(timer);
    return () => this.timers.delete(timer);
  }

  /** Timers set and not yet run or cancelled. */
  get pending(): number {
    return this.timers.size;
  }

  /** When the next timer falls due (ms from now), or null when none is set. */
  get nextIn(): number | null {
    const next = this.next();
    return next ? next.at - this.time : null;
  }

  /** Moves the time by `ms`, running each timer that falls due on the way. */
  advance(ms: number): void {
    const end = this.time + ms;
    for (let t = this.next(); t && t.at <= end; t = this.next()) {
      this.timers.delete(t);
      this.time = t.at;
      t.f();
    }
    this.time = end;
  }

  private next(): Timer | undefined {
    let first: Timer | undefined;
    for (const t of this.timers) if (!first || t.at < first.at || (t.at === first.at && t.seq < first.seq)) first = t;
    return first;
  }
}
