import { describe, expect, it } from 'vitest';
import { createRateLimiter } from './rate-limit.ts';

describe('createRateLimiter', () => {
  it('allows a burst, then refuses with the seconds to wait, then refills with time', () => {
    let t = 0;
    const limiter = createRateLimiter({ ratePerSecond: 2, burst: 3 }, () => t);
    expect([limiter.take(1), limiter.take(1), limiter.take(1)]).toEqual([0, 0, 0]);
    expect(limiter.take(1)).toBe(1);
    expect(limiter.take(2)).toBe(0);
    t = 500;
    expect(limiter.take(1)).toBe(0);
    expect(limiter.take(1)).toBeGreaterThan(0);
  });
});
