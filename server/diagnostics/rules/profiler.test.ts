import { describe, expect, it } from 'vitest';
import { contextOf, stepsWithLoss } from './fixtures.ts';
import { dominantOp, forwardBackwardRatio } from './profiler.ts';

const profiled = (profiler: Record<string, unknown>) => stepsWithLoss([1], () => ({ profiler: profiler as never }));

describe('profiler rules', () => {
  it('notes a backward pass 8x the forward pass', () => {
    expect(forwardBackwardRatio(contextOf(profiled({ forward_ms: 10, backward_ms: 80 }))))
      .toMatchObject([{ code: 'profiler.fwd_bwd_ratio', severity: 'info' }]);
  });

  it('sums per-layer timings when totals are missing, and accepts a 2x ratio', () => {
    const per_layer = [{ layer: 'a', fwd_us: 1000, bwd_us: 2000 }, { layer: 'b', fwd_us: 500, bwd_us: 900 }];
    expect(forwardBackwardRatio(contextOf(profiled({ per_layer })))).toEqual([]);
  });

  it('notes one op over 60% of the profiled time', () => {
    const top_operations = [{ name: 'MatMul', calls: 4, cpu_time_ms: 80 }, { name: 'Relu', calls: 4, cpu_time_ms: 10 }];
    expect(dominantOp(contextOf(profiled({ top_operations, total_cpu_time_ms: 100 }))))
      .toMatchObject([{ code: 'profiler.dominant_op', title: expect.stringContaining('MatMul') }]);
  });

  it('says nothing when time is spread over ops', () => {
    const top_operations = [{ name: 'MatMul', cpu_time_ms: 40 }, { name: 'Conv2D', cpu_time_ms: 35 }, { name: 'Relu', cpu_time_ms: 25 }];
    expect(dominantOp(contextOf(profiled({ top_operations })))).toEqual([]);
  });
});
