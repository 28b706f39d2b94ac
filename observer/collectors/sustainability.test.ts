import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { forwardFlopsPerSample, SustainabilityCollector } from './sustainability.ts';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('sustainability and carbon', () => {
  it('estimates forward FLOPs: 2 per multiply-add, convolutions at every output position', () => {
    const dense = tf.sequential({ layers: [tf.layers.dense({ inputShape: [784], units: 10 })] });
    expect(forwardFlopsPerSample(dense)).toBe(2 * 7840);
    const conv = tf.sequential({ layers: [tf.layers.conv2d({ inputShape: [28, 28, 1], filters: 8, kernelSize: 3, padding: 'same' })] });
    expect(forwardFlopsPerSample(conv)).toBe(2 * 3 * 3 * 1 * 8 * 28 * 28);
  });

  it('reports marginal loss, compute and carbon from power x time x grid intensity', () => {
    const model = tf.sequential({ layers: [tf.layers.dense({ inputShape: [100], units: 10 })] });
    const c = new SustainabilityCollector(model, { countryIso: 'FRA', deviceWatts: 100 });
    c.collect(1000, 36, 2.0);
    const { sustainability, carbon } = c.collect(1000, 36, 1.5) as any;
    expect(sustainability.marginal_loss).toMatchObject({ previous_loss: 2, current_loss: 1.5, improvement: 0.5, relative_improvement: 0.25 });
    expect(sustainability.step_compute_cost.gflops).toBeCloseTo((3 * 2 * 1000 * 1000) / 1e9);
    expect(sustainability.cumulative_compute).toMatchObject({ total_samples: 2000, wall_seconds: 72 });
    expect(carbon).toMatchObject({ country_iso: 'FRA', grid_intensity_g_per_kwh: 55, device_watts: 100, watts_source: 'configured' });
    expect(carbon.energy_kwh).toBeCloseTo(0.001);
    expect(carbon.emissions_kg).toBeCloseTo(0.000055);
    expect(carbon.cumulative_energy_kwh).toBeCloseTo(0.002);
  });

  it('falls back to the world average for an unlisted country and to an assumed wattage per backend', () => {
    const { carbon } = new SustainabilityCollector(null, { countryIso: 'ATA', deviceWatts: null }).collect(10, 1, null) as any;
    expect(carbon).toMatchObject({ country_iso: 'WORLD', device_watts: 30, watts_source: 'assumed for the cpu backend' });
  });
});
