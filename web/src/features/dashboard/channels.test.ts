import { describe, expect, it } from 'vitest';
import { architectureOf, carbonOf, layerHealthOf, pendingTimeoutOf, topKernelsOf } from './channels.ts';

describe('channel readers', () => {
  it("reads the seed's architecture and the observer's layer graph, skipping what is malformed", () => {
    const arch = architectureOf({
      total_parameters: 1000,
      layers: { fc: { type: 'Linear', parameters: 1000, pct_of_total: 100 }, odd: 'not a layer' },
      layer_graph: { nodes: [{ id: 'a', type: 'Dense', parameters: 10 }, 7], edges: [{ source: 'a', target: 'b' }], sequential_path: ['a', 3] },
    });
    expect(arch).toEqual({
      totalParameters: 1000,
      layers: [
        { name: 'fc', type: 'Linear', parameters: 1000, pctOfTotal: 100 },
        { name: 'odd', type: '', parameters: 0, pctOfTotal: 0 },
      ],
      graph: { nodes: [{ id: 'a', type: 'Dense', parameters: 10 }], edges: [{ source: 'a', target: 'b' }], sequential_path: ['a'] },
    });
    expect(architectureOf(null)).toBeNull();
    expect(architectureOf({ total_parameters: 5 })?.graph).toBeNull();
  });

  it("reads kernel times from tfjs's time_ms and the seed's cpu_time_ms", () => {
    expect(topKernelsOf({ top_operations: [{ name: 'MatMul', calls: 3, time_ms: 1.5 }, { name: 'aten::addmm', cpu_time_ms: 2 }] })).toEqual([
      { name: 'MatMul', calls: 3, ms: 1.5 },
      { name: 'aten::addmm', calls: null, ms: 2 },
    ]);
    expect(topKernelsOf({ forward_ms: 3 })).toBeNull();
  });

  it('reads carbon, layer health and the pending timeout, with defaults for what is missing', () => {
    expect(carbonOf({ cumulative_energy_kwh: 0.001, country_iso: 'IRL' })).toEqual({ energyKwh: 0.001, emissionsKg: 0, country: 'IRL', deviceWatts: null });
    expect(layerHealthOf({ layers: { dense: { gradient_norm_mean: 'NaN' }, bad: 3 } })).toEqual({ dense: { gradient_norm_mean: 'NaN' }, bad: {} });
    expect(layerHealthOf('x')).toBeNull();
    expect(pendingTimeoutOf({ pending_timeout: 12 })).toBe(12);
    expect(pendingTimeoutOf(null)).toBe(39);
  });
});
