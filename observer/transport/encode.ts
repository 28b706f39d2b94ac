import type { LogLine } from '../collectors/logs.ts';
import type { Json, StepRecord } from '../record.ts';

/**
 * JSON has no NaN: non-finite numbers travel as the strings "NaN", "Infinity", "-Infinity"
 * (what the server's Metric and JSON scalars read back as numbers).
 */
export function encodeNonFinite(v: unknown): Json {
  if (typeof v === 'number') return Number.isFinite(v) ? v : String(v);
  if (v === null || typeof v !== 'object') return v as Json;
  if (Array.isArray(v)) return v.map(encodeNonFinite);
  const out: Record<string, Json> = {};
  for (const [k, x] of Object.entries(v)) if (x !== undefined) out[k] = encodeNonFinite(x);
  return out;
}

/** A step record (seed snake_case) as the `StepInput` of the GraphQL API. */
export function toStepInput(r: StepRecord): Record<string, Json> {
  const l = r.loss;
  const input: Record<string, unknown> = {
    stepIndex: r.step_index,
    timestamp: r.timestamp,
    durationSeconds: r.duration_seconds,
    loss: l && { trainMean: l.train_mean, trainMin: l.train_min, trainMax: l.train_max, trainStd: l.train_std, numBatches: l.num_batches, val: l.val ?? null },
    throughput: r.throughput,
    memory: r.memory,
    system: r.system,
    profiler: r.profiler,
    layerHealth: r.layer_health,
    sustainability: r.sustainability,
    carbonEmissions: r.carbon_emissions,
    extra: r.observer || l?.first_non_finite_step != null ? { observer: { ...(r.observer ?? {}), first_non_finite_step: l?.first_non_finite_step ?? null } } : undefined,
  };
  return encodeNonFinite(input) as Record<string, Json>;
}

export const toLogInput = (l: LogLine) => ({ ts: l.ts, level: l.level, msg: l.msg, module: l.module, kind: l.kind });
