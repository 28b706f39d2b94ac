import { describe, expect, it } from 'vitest';
import { contextOf, stepsWithLoss } from './fixtures.ts';
import { memoryGrowth, memoryNearCapacity } from './memory.ts';

const withMemory = (mems: Record<string, number>[], stepsPerFlush = 1) =>
  stepsWithLoss(mems.map(() => 1), (i) => ({ memory: mems[i]! })).map((s) => ({ ...s, loss: { ...s.loss, num_batches: stepsPerFlush } }));

describe('memory rules', () => {
  it('calls GPU memory at 96% critical and at 91% a warning', () => {
    expect(memoryNearCapacity(contextOf(withMemory([{ cuda_allocated_mb: 7700, cuda_total_mb: 8000 }])))[0]?.severity).toBe('critical');
    expect(memoryNearCapacity(contextOf(withMemory([{ js_heap_used_mb: 3650, js_heap_limit_mb: 4000 }])))[0]?.severity).toBe('warning');
  });

  it('says nothing below 90% or without a known capacity', () => {
    expect(memoryNearCapacity(contextOf(withMemory([{ cuda_allocated_mb: 4000, cuda_total_mb: 8000 }])))).toEqual([]);
    expect(memoryNearCapacity(contextOf(withMemory([{ cuda_allocated_mb: 99999 }])))).toEqual([]);
  });

  it('finds a tensor leak: numTensors rising every flush', () => {
    const mems = Array.from({ length: 10 }, (_, i) => ({ num_tensors: 120 + 6 * i }));
    expect(memoryGrowth(contextOf(withMemory(mems)))[0]).toMatchObject({ code: 'memory.leak', title: expect.stringContaining('Tensor leak') });
  });

  it('finds a small leak in a big model: 5 tensors a flush on top of 50,000', () => {
    const mems = Array.from({ length: 10 }, (_, i) => ({ num_tensors: 50_000 + 5 * i }));
    expect(memoryGrowth(contextOf(withMemory(mems)))[0]?.code).toBe('memory.leak');
  });

  it('leaves a large but constant tensor count alone', () => {
    const mems = Array.from({ length: 30 }, (_, i) => ({ num_tensors: 50_000 + (i % 2) }));
    expect(memoryGrowth(contextOf(withMemory(mems)))).toEqual([]);
  });

  it('judges sparse flushes by the steps they cover: 4 rising flushes of 20 steps are a leak, 4 of 1 step are not', () => {
    const mems = [100, 100, 100, 100, 120, 140, 160].map((n) => ({ num_tensors: n }));
    expect(memoryGrowth(contextOf(withMemory(mems, 20)))[0]?.code).toBe('memory.leak');
    expect(memoryGrowth(contextOf(withMemory(mems, 1)))).toEqual([]);
  });

  it('leaves a count that rises then falls (a cache filling and freeing) alone', () => {
    const mems = [100, 110, 120, 130, 90, 100, 110, 120, 130, 140].map((n) => ({ num_tensors: n }));
    expect(memoryGrowth(contextOf(withMemory(mems)))).toEqual([]);
  });
});
