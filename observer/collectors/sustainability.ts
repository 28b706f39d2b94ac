import * as tf from '@tensorflow/tfjs';
import type { JsonObject } from '../record.ts';
import { isLayersModel, type ObservableModel } from './architecture.ts';
import { BACKEND_WATTS, DEFAULT_WATTS, GRID_INTENSITY_G_PER_KWH } from './carbon-intensity.ts';

/**
 * Forward FLOPs per sample, estimated from the layers: 2 per multiply-add of Dense and
 * convolution kernels (a convolution's kernel is applied at every output position).
 * Training costs about 3x the forward pass (the backward pass is about twice the forward).
 */
export function forwardFlopsPerSample(model: ObservableModel): number {
  if (!isLayersModel(model)) {
    return Object.values(model.layers).reduce((n, l) => n + 2 * l.variables.filter((v) => v.rank >= 2).reduce((a, v) => a + v.size, 0), 0);
  }
  let flops = 0;
  for (const layer of model.layers) {
    const kernels = layer.getWeights().filter((w) => w.rank >= 2);
    if (!kernels.length) continue;
    const macs = kernels.reduce((n, w) => n + w.size, 0);
    const out = layer.outputShape as (number | null)[];
    const cls = layer.getClassName();
    const positions = /Conv/.test(cls) && Array.isArray(out) ? out.slice(1, -1).reduce<number>((p, d) => p * (d ?? 1), 1) : /Embedding/.test(cls) ? 0 : 1;
    flops += 2 * macs * positions;
  }
  return flops;
}

/**
 * Green-AI channels of the seed: layer efficiency (time per parameter, from the last profile),
 * marginal loss improvement, the flush's compute cost and the cumulative compute; and the
 * carbon estimate: device power (a stated assumption per backend) x wall time x the grid
 * intensity of the country.
 */
export class SustainabilityCollector {
  private readonly flopsPerSample: number;
  private totalGflops = 0;
  private totalSamples = 0;
  private totalSeconds = 0;
  private energyKwh = 0;
  private previousLoss: number | null = null;
  private layerTimes: JsonObject[] | null = null;

  constructor(
    private readonly model: ObservableModel | null,
    private readonly opts: { countryIso: string; deviceWatts: number | null },
  ) {
    this.flopsPerSample = model ? forwardFlopsPerSample(model) : 0;
  }

  /** Keeps the per-layer timings of a profile for layer efficiency. */
  notePerLayer(perLayer: JsonObject[] | undefined): void {
    if (perLayer?.length) this.layerTimes = perLayer;
  }

  collect(samples: number, seconds: number, lossMean: number | null): { sustainability: JsonObject; carbon: JsonObject } {
    const gflops = (3 * this.flopsPerSample * samples) / 1e9;
    this.totalGflops += gflops;
    this.totalSamples += samples;
    this.totalSeconds += seconds;
    const delta = lossMean !== null && this.previousLoss !== null ? this.previousLoss - lossMean : null;
    const marginal: JsonObject = {
      previous_loss: this.previousLoss,
      current_loss: lossMean,
      improvement: delta,
      relative_improvement: delta !== null && this.previousLoss ? delta / Math.abs(this.previousLoss) : null,
      improvement_per_second: delta !== null && seconds > 0 ? delta / seconds : null,
      improvement_per_gflop: delta !== null && gflops > 0 ? delta / gflops : null,
    };
    if (lossMean !== null && Number.isFinite(lossMean)) this.previousLoss = lossMean;
    const params = this.model && isLayersModel(this.model) ? new Map(this.model.layers.map((l) => [l.name, l.countParams()])) : new Map<string, number>();
    const layerEfficiency = (this.layerTimes ?? []).map((t) => {
      const p = params.get(String(t.layer)) ?? 0;
      const us = typeof t.total_us === 'number' ? t.total_us : 0;
      return { layer: t.layer, parameters: p, time_us: us, us_per_million_params: p ? (us / p) * 1e6 : null };
    });
    const backend = tf.getBackend() ?? 'cpu';
    const watts = this.opts.deviceWatts ?? BACKEND_WATTS[backend] ?? DEFAULT_WATTS;
    const kwh = (watts * seconds) / 3.6e6;
    this.energyKwh += kwh;
    const country = GRID_INTENSITY_G_PER_KWH[this.opts.countryIso] !== undefined ? this.opts.countryIso : 'WORLD';
    const intensity = GRID_INTENSITY_G_PER_KWH[country]!;
    return {
      sustainability: {
        layer_efficiency: layerEfficiency as unknown as JsonObject[string],
        marginal_loss: marginal,
        step_compute_cost: { gflops, gflops_per_sample: (3 * this.flopsPerSample) / 1e9, samples, method: 'estimate: 2 FLOPs per multiply-add forward, x3 for training' },
        cumulative_compute: { total_gflops: this.totalGflops, total_samples: this.totalSamples, wall_seconds: this.totalSeconds },
      },
      carbon: {
        mode: 'offline',
        country_iso: country,
        grid_intensity_g_per_kwh: intensity,
        device_watts: watts,
        watts_source: this.opts.deviceWatts !== null ? 'configured' : `assumed for the ${backend} backend`,
        energy_kwh: kwh,
        emissions_kg: (kwh * intensity) / 1000,
        cumulative_energy_kwh: this.energyKwh,
        cumulative_emissions_kg: (this.energyKwh * intensity) / 1000,
      },
    };
  }
}
