import * as tf from '@tensorflow/tfjs';
import type { JsonObject } from '../record.ts';
import { compiledLoss, type LossFn } from './model-loss.ts';

type Kernel = Awaited<ReturnType<typeof tf.profile>>['kernels'][number];

/** Settings of the profiler (from ObserverConfig). */
export interface ProfilerOptions {
  topN: number;
  recordShapes: boolean;
  profileMemory: boolean;
}

/** A training step the observer runs itself, so it can split forward from backward. */
export interface ProfiledStep {
  model: tf.LayersModel;
  x: tf.Tensor | tf.Tensor[];
  y: tf.Tensor | tf.Tensor[];
  /** Applies the gradients; without it the step is measured only (the weights do not change). */
  optimizer?: tf.Optimizer;
  /** `(yTrue, yPred) => loss`; defaults to the loss the model was compiled with. */
  loss?: LossFn;
}

const ms = (k: Kernel) => (typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0);

/** Kernels grouped by name, slowest first: calls, time, shapes and bytes (seed §6 `top_operations`). */
export function topOperations(kernels: Kernel[], o: ProfilerOptions): JsonObject[] {
  const byName = new Map<string, { name: string; calls: number; time_ms: number; bytes_added: number; input_shapes?: number[][]; output_shapes?: number[][] }>();
  for (const k of kernels) {
    let row = byName.get(k.name);
    if (!row) {
      row = { name: k.name, calls: 0, time_ms: 0, bytes_added: 0 };
      if (o.recordShapes) Object.assign(row, { input_shapes: k.inputShapes, output_shapes: k.outputShapes });
      byName.set(k.name, row);
    }
    row.calls++;
    row.time_ms += ms(k);
    row.bytes_added += k.bytesAdded;
  }
  return [...byName.values()]
    .sort((a, b) => b.time_ms - a.time_ms)
    .slice(0, o.topN)
    .map((r) => {
      const out: JsonObject = { name: r.name, calls: r.calls, time_ms: r.time_ms, cpu_time_ms: r.time_ms };
      if (o.profileMemory) out.bytes_added = r.bytes_added;
      if (r.input_shapes) out.input_shapes = r.input_shapes as unknown as JsonObject[string];
      if (r.output_shapes) out.output_shapes = r.output_shapes as unknown as JsonObject[string];
      return out;
    });
}

const total = (ks: Kernel[]) => ks.reduce((s, k) => s + ms(k), 0);

/**
 * Profiles any function (a whole training step): kernel times from `tf.profile`, the wall
 * time around it. No forward/backward split: tfjs cannot tell which kernels belong to which.
 */
export async function profileFunction<T extends tf.TensorContainer>(fn: () => T | Promise<T>, o: ProfilerOptions): Promise<{ result: T; profile: JsonObject }> {
  const start = performance.now();
  const info = await tf.profile(fn as () => tf.TensorContainer);
  const wall = performance.now() - start;
  const profile: JsonObject = {
    wall_time_ms: wall,
    total_time_ms: total(info.kernels),
    total_cpu_time_ms: total(info.kernels),
    kernel_count: info.kernels.length,
    top_operations: topOperations(info.kernels, o),
    backend: tf.getBackend(),
  };
  if (o.profileMemory) Object.assign(profile, { new_bytes: info.newBytes, new_tensors: info.newTensors, peak_bytes: info.peakBytes });
  return { result: info.result as T, profile };
}

/** The layers of a model that is a single chain (each layer fed by the one before), else null. */
function chain(model: tf.LayersModel): tf.layers.Layer[] | null {
  const layers = model.layers;
  for (let i = 1; i < layers.length; i++) {
    const inbound = (layers[i] as unknown as { inboundNodes: { inboundLayers: tf.layers.Layer[] }[] }).inboundNodes;
    if (inbound.length !== 1 || inbound[0]!.inboundLayers.length !== 1 || inbound[0]!.inboundLayers[0] !== layers[i - 1]) return null;
  }
  return layers;
}

/**
 * Runs one full training step (forward, loss, backward, update) under the profiler.
 * Measured: every kernel's time; forward vs backward (the step's first kernels are the
 * forward pass, as many as a forward pass alone launches, counted once per model); each
 * layer's share of the forward time on a chain model (each layer timed on its own, once per
 * model). Estimated: a layer's forward and backward time, as its share times the step's
 * measured forward and backward time.
 */
export async function profileTrainingStep(step: ProfiledStep, o: ProfilerOptions): Promise<{ loss: tf.Scalar; profile: JsonObject }> {
  const lossFn = step.loss ?? compiledLoss(step.model);
  if (!lossFn) throw new TypeError('profileStep needs a compiled model or a `loss` function');
  const yTrue = Array.isArray(step.y) ? step.y[0]! : step.y;
  const forward = () => lossFn(yTrue, step.model.apply(step.x, { training: true }) as tf.Tensor).mean() as tf.Scalar;
  const key = shapeKey(step.x);
  let known = measured.get(step.model);
  if (!known || known.key !== key) {
    // tfjs hands back one profile object that its next profile() call overwrites: copy what is needed at once.
    const fwdOnly = await tf.profile(() => forward());
    (fwdOnly.result as tf.Tensor).dispose();
    known = { key, forwardKernels: fwdOnly.kernels.length, shares: null };
    measured.set(step.model, known);
  }
  const n = known.forwardKernels;
  const start = performance.now();
  const fullInfo = await tf.profile(() => {
    const { value, grads } = tf.variableGrads(forward);
    step.optimizer?.applyGradients(grads);
    tf.dispose(Object.values(grads));
    return value;
  });
  const full = { ...fullInfo, kernels: [...fullInfo.kernels] };
  const wall = performance.now() - start;
  const fwdMs = total(full.kernels.slice(0, n));
  const bwdMs = total(full.kernels.slice(n));
  const profile: JsonObject = {
    wall_time_ms: wall,
    total_time_ms: fwdMs + bwdMs,
    total_cpu_time_ms: fwdMs + bwdMs,
    forward_ms: fwdMs,
    backward_ms: bwdMs,
    kernel_count: full.kernels.length,
    top_operations: topOperations(full.kernels, o),
    backend: tf.getBackend(),
  };
  if (o.profileMemory) Object.assign(profile, { new_bytes: full.newBytes, new_tensors: full.newTensors, peak_bytes: full.peakBytes });
  known.shares ??= await layerShares(step);
  if (known.shares) profile.per_layer = perLayer(known.shares, fwdMs, bwdMs);
  return { loss: full.result as tf.Scalar, profile };
}

/**
 * What a model's profile does not need to measure twice (each profile() call waits on every
 * kernel, which is slow on WebGL): how many kernels its forward pass launches, and each
 * layer's share of the forward time, measured on its first profiled step.
 */
const measured = new WeakMap<tf.LayersModel, { key: string; forwardKernels: number; shares: { layer: string; share: number }[] | null }>();

const shapeKey = (x: tf.Tensor | tf.Tensor[]) => (Array.isArray(x) ? x.map((t) => t.shape.join('x')).join(',') : x.shape.join('x'));

function perLayer(shares: { layer: string; share: number }[], fwdMs: number, bwdMs: number): JsonObject[] {
  const grand = fwdMs + bwdMs || 1;
  return shares.map(({ layer, share }) => {
    const fwd = share * fwdMs;
    const bwd = share * bwdMs;
    return { layer, fwd_us: fwd * 1000, bwd_us: bwd * 1000, total_us: (fwd + bwd) * 1000, pct_of_total: (100 * (fwd + bwd)) / grand, share_of_forward: share, bwd_estimated: true };
  });
}

/** Each layer's share of the forward time, timed layer by layer (chain models only). */
async function layerShares(step: ProfiledStep): Promise<{ layer: string; share: number }[] | null> {
  const layers = chain(step.model);
  if (!layers || Array.isArray(step.x)) return null;
  const times: { layer: string; fwd: number }[] = [];
  let h: tf.Tensor = step.x;
  for (const layer of layers) {
    const input = h;
    const info = await tf.profile(() => layer.apply(input, { training: true }) as tf.Tensor);
    h = info.result as tf.Tensor;
    times.push({ layer: layer.name, fwd: total(info.kernels) });
    if (input !== step.x) input.dispose();
  }
  h.dispose();
  const fwdTotal = times.reduce((s, t) => s + t.fwd, 0) || 1;
  return times.map((t) => ({ layer: t.layer, share: t.fwd / fwdTotal }));
}
