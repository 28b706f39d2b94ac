import * as tf from '@tensorflow/tfjs';
import type { JsonObject } from '../record.ts';

/** A model that is not a tf.LayersModel: named groups of variables (a hand-written network). */
export interface CustomModel {
  name?: string;
  /** In data-flow order; a layer with no variables (an Add, a reshape) may be listed for the graph. */
  layers: Record<string, { type?: string; variables: tf.Variable[]; activation?: string }>;
  /** The real connections (residuals included); without them the layers are drawn as a chain. */
  edges?: { source: string; target: string }[];
  /**
   * The loss on a fixed batch, for per-layer gradient norms (layer health). It must not
   * update anything; the observer differentiates it with respect to the layers' variables.
   */
  probeLoss?: () => tf.Scalar;
}

export type ObservableModel = tf.LayersModel | CustomModel;

export const isLayersModel = (m: ObservableModel): m is tf.LayersModel => m instanceof tf.LayersModel;

const shapeOf = (s: unknown): tf.Shape | tf.Shape[] | null => (Array.isArray(s) ? (s as tf.Shape | tf.Shape[]) : null);
const sizeOf = (vars: { shape: (number | null)[] }[]) => vars.reduce((n, v) => n + v.shape.reduce<number>((a, b) => a * (b ?? 1), 1), 0);

function lossName(model: tf.LayersModel): string | null {
  const loss = (model as unknown as { loss?: unknown }).loss;
  if (typeof loss === 'string') return loss;
  if (Array.isArray(loss) && typeof loss[0] === 'string') return loss[0];
  if (typeof loss === 'function') return loss.name || null;
  return null;
}

/**
 * The architecture record the seed sends at registration: parameter counts, a per-layer
 * table with % of total, the module tree and, when asked, the layer graph built from the
 * model's real connectivity (its inbound nodes).
 */
export function describeModel(model: ObservableModel, withGraph: boolean): JsonObject {
  return isLayersModel(model) ? describeLayers(model, withGraph) : describeCustom(model, withGraph);
}

function describeLayers(model: tf.LayersModel, withGraph: boolean): JsonObject {
  const total = model.countParams();
  const trainable = sizeOf(model.trainableWeights);
  const layers: JsonObject = {};
  const children: JsonObject = {};
  for (const layer of model.layers) {
    const params = layer.countParams();
    const config = layer.getConfig() as Record<string, unknown>;
    const row: JsonObject = { type: layer.getClassName(), parameters: params, pct_of_total: total ? (100 * params) / total : 0, trainable: layer.trainable };
    if (typeof config.activation === 'string') row.activation = config.activation;
    if (typeof config.units === 'number') row.units = config.units;
    if (typeof config.filters === 'number') row.filters = config.filters;
    const out = shapeOf(safe(() => layer.outputShape));
    if (out) row.output_shape = out as unknown as JsonObject[string];
    layers[layer.name] = row;
    children[layer.name] = { type: layer.getClassName() };
  }
  const arch: JsonObject = {
    framework: 'tfjs',
    model_class: model.getClassName(),
    total_parameters: total,
    trainable_parameters: trainable,
    frozen_parameters: total - trainable,
    num_parameter_layers: model.layers.filter((l) => l.countParams() > 0).length,
    layers,
    module_tree: { type: model.getClassName(), name: model.name, children },
  };
  const loss = lossName(model);
  if (loss) arch.loss = loss;
  if (withGraph) arch.layer_graph = layerGraph(model);
  return arch;
}

function safe<T>(f: () => T): T | null {
  try {
    return f();
  } catch {
    return null;
  }
}

/** Nodes, edges (from each layer's inbound nodes), the topological order and the shapes along it. */
function layerGraph(model: tf.LayersModel): JsonObject {
  const names = new Set(model.layers.map((l) => l.name));
  const nodes: JsonObject[] = [];
  const edges: JsonObject[] = [];
  const extra = new Map<string, tf.layers.Layer>();
  for (const layer of model.layers) {
    for (const node of (layer as unknown as { inboundNodes: { inboundLayers: tf.layers.Layer[] }[] }).inboundNodes ?? []) {
      for (const src of node.inboundLayers ?? []) {
        if (!names.has(src.name)) extra.set(src.name, src);
        edges.push({ source: src.name, target: layer.name });
      }
    }
  }
  for (const layer of [...extra.values(), ...model.layers]) {
    nodes.push({
      id: layer.name,
      type: layer.getClassName(),
      parameters: layer.countParams(),
      output_shape: (shapeOf(safe(() => layer.outputShape)) ?? null) as unknown as JsonObject[string],
    });
  }
  const order = [...extra.keys(), ...model.layers.map((l) => l.name)];
  const dimension_flow = [...extra.values(), ...model.layers].map((l) => ({
    layer: l.name,
    input_shape: inputShapes(l) as unknown as JsonObject[string],
    output_shape: (shapeOf(safe(() => l.outputShape)) ?? null) as unknown as JsonObject[string],
  }));
  return { nodes, edges, sequential_path: order, dimension_flow };
}

/** The shapes of a layer's inputs (one or several). */
function inputShapes(l: tf.layers.Layer): tf.Shape | tf.Shape[] | null {
  const input = safe(() => (l as unknown as { input: tf.SymbolicTensor | tf.SymbolicTensor[] }).input);
  if (!input) return null;
  return Array.isArray(input) ? input.map((t) => t.shape) : input.shape;
}

function describeCustom(model: CustomModel, withGraph: boolean): JsonObject {
  const entries = Object.entries(model.layers);
  const total = entries.reduce((n, [, l]) => n + sizeOf(l.variables), 0);
  const trainable = entries.reduce((n, [, l]) => n + sizeOf(l.variables.filter((v) => v.trainable)), 0);
  const layers: JsonObject = {};
  for (const [name, l] of entries) {
    const params = sizeOf(l.variables);
    layers[name] = { type: l.type ?? 'Custom', parameters: params, pct_of_total: total ? (100 * params) / total : 0, ...(l.activation ? { activation: l.activation } : {}) };
  }
  const arch: JsonObject = {
    framework: 'tfjs',
    model_class: model.name ?? 'CustomModel',
    total_parameters: total,
    trainable_parameters: trainable,
    frozen_parameters: total - trainable,
    num_parameter_layers: entries.filter(([, l]) => sizeOf(l.variables) > 0).length,
    layers,
    module_tree: { type: model.name ?? 'CustomModel', children: Object.fromEntries(entries.map(([n, l]) => [n, { type: l.type ?? 'Custom' }])) },
  };
  if (withGraph) {
    const order = entries.map(([n]) => n);
    arch.layer_graph = {
      nodes: entries.map(([n, l]) => ({ id: n, type: l.type ?? 'Custom', parameters: sizeOf(l.variables) })),
      edges: model.edges ? model.edges.map((e) => ({ ...e })) : order.slice(1).map((n, i) => ({ source: order[i]!, target: n })),
      sequential_path: order,
      dimension_flow: entries.map(([n, l]) => ({ layer: n, weight_shapes: l.variables.map((v) => v.shape) })),
      edges_inferred: !model.edges,
    };
  }
  return arch;
}
