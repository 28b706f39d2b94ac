import { describe, expect, it } from 'vitest';
import { Batcher } from './batcher.ts';

describe('Batcher', () => {
  it('hands items submitted in one turn to a single flush, in order', async () => {
    const calls: number[][] = [];
    const b = new Batcher<number, number>(async (xs) => (calls.push(xs), xs.map((x) => x * 2)), 100);
    expect(await Promise.all([b.submit(1), b.submit(2), b.submit(3)])).toEqual([2, 4, 6]);
    expect(calls).toEqual([[1, 2, 3]]);
  });

  it('splits batches at the maximum size', async () => {
    const calls: number[][] = [];
    const b = new Batcher<number, number>(async (xs) => (calls.push(xs), xs), 2);
    await Promise.all([1, 2, 3, 4, 5].map((x) => b.submit(x)));
    expect(calls).toEqual([[1, 2], [3, 4], [5]]);
  });

  it('fails only the bad item when a batch fails', async () => {
    const b = new Batcher<number, number>(async (xs) => {
      if (xs.includes(13)) throw new Error('unlucky');
      return xs;
    }, 10);
    const results = await Promise.allSettled([b.submit(1), b.submit(13), b.submit(3)]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
  });
});
