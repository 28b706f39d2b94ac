/**
 * Typed readers of the free-form channels (the `JSON` scalar): the architecture, the
 * profile, the carbon estimate, the hyperparameters. Any client may send them (the tfjs
 * Observer, the seed's Python one), so every field is checked, never assumed.
 */
import { asObject, type Json, type JsonObject } from '../../graphql/graphql.ts';
import type { LayerGraphData } from './LayerGraph.tsx';

const num = (v: Json | undefined): number | null => (typeof v === 'number' ? v : null);
const str = (v: Json | undefined): string | null => (typeof v === 'string' ? v : null);
const list = (v: Json | undefined): Json[] => (Array.isArray(v) ? v : []);
/** Drops absent fields, so a checked object keeps only what was sent. */
const defined = <T extends object>(o: T): T => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== null && v !== undefined)) as T;

export interface ArchitectureLayer {
  name: string;
  type: string;
  parameters: number;
  pctOfTotal: number;
}

export interface Architecture {
  totalParameters: number;
  layers: ArchitectureLayer[];
  graph: LayerGraphData | null;
}

function layerGraph(v: Json | undefined): LayerGraphData | null {
  const g = asObject(v);
  if (!g) return null;
  const nodes = list(g.nodes).flatMap((n) => {
    const o = asObject(n);
    return o ? [defined({ id: str(o.id) ?? undefined, name: str(o.name) ?? undefined, type: str(o.type) ?? undefined, parameters: num(o.parameters) ?? undefined, output_shape: o.output_shape })] : [];
  });
  const edges = list(g.edges).flatMap((e) => {
    const o = asObject(e);
    return o ? [defined({ source: str(o.source) ?? undefined, target: str(o.target) ?? undefined, from: str(o.from) ?? undefined, to: str(o.to) ?? undefined })] : [];
  });
  const path = list(g.sequential_path).filter((s): s is string => typeof s === 'string');
  return { nodes, edges, sequential_path: path };
}

/** The registered model's architecture, or null when none was sent. */
export function architectureOf(v: Json | undefined): Architecture | null {
  const a = asObject(v);
  if (!a) return null;
  const layers = Object.entries(asObject(a.layers) ?? {}).map(([name, l]) => {
    const o = asObject(l) ?? {};
    return { name, type: str(o.type) ?? '', parameters: num(o.parameters) ?? 0, pctOfTotal: num(o.pct_of_total) ?? 0 };
  });
  return { totalParameters: num(a.total_parameters) ?? 0, layers, graph: a.layer_graph ? layerGraph(a.layer_graph) : null };
}

export interface KernelTime {
  name: string;
  calls: number | null;
  ms: number;
}

/** The profiler's top kernels, or null when the step has none. tfjs observers send `time_ms`; the seed's Python one `cpu_time_ms`. */
export function topKernelsOf(v: Json | undefined): KernelTime[] | null {
  const ops = asObject(v)?.top_operations;
  if (!Array.isArray(ops)) return null;
  return ops.flatMap((op) => {
    const o = asObject(op);
    return o ? [{ name: str(o.name) ?? String(o.name), calls: num(o.calls), ms: num(o.time_ms) ?? num(o.cpu_time_ms) ?? 0 }] : [];
  });
}

export interface Carbon {
  energyKwh: number;
  emissionsKg: number;
  country: string | null;
  deviceWatts: number | null;
}

/** The cumulative carbon estimate of a step, or null. */
export function carbonOf(v: Json | undefined): Carbon | null {
  const c = asObject(v);
  if (!c) return null;
  return { energyKwh: num(c.cumulative_energy_kwh) ?? 0, emissionsKg: num(c.cumulative_emissions_kg) ?? 0, country: str(c.country_iso), deviceWatts: num(c.device_watts) };
}

/** Per-layer health of a step: each layer's measures, or null when the step has none. */
export function layerHealthOf(v: Json | undefined): Record<string, JsonObject> | null {
  const layers = asObject(asObject(v)?.layers);
  if (!layers) return null;
  return Object.fromEntries(Object.entries(layers).map(([name, m]) => [name, asObject(m) ?? {}]));
}

/** How long the observer waits for a decision, from the session's config. @default 39 */
export function pendingTimeoutOf(config: Json | undefined): number {
  return num(asObject(config)?.pending_timeout) ?? 39;
}
