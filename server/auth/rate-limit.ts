/** Token buckets, one per key: `ratePerSecond` sustained, bursts up to `burst`. */
interface RateLimiter {
  /** Takes one token for `key`; returns 0 when allowed, else the seconds until one is available. */
  take(key: number): number;
}

/**
 * @param now injectable clock (ms), for tests
 */
export function createRateLimiter(opts: { ratePerSecond: number; burst: number }, now: () => number = Date.now): RateLimiter {
  const buckets = new Map<number, { tokens: number; at: number }>();
  const { ratePerSecond, burst } = opts;
  return {
    take(key) {
      if (ratePerSecond <= 0) return 0;
      const t = now();
      const b = buckets.get(key) ?? { tokens: burst, at: t };
      b.tokens = Math.min(burst, b.tokens + ((t - b.at) / 1000) * ratePerSecond);
      b.at = t;
      buckets.set(key, b);
      if (b.tokens >= 1) {
        b.tokens -= 1;
        return 0;
      }
      return Math.max(1, Math.ceil((1 - b.tokens) / ratePerSecond));
    },
  };
}
