import * as tf from '@tensorflow/tfjs';
import type { JsonObject } from '../record.ts';
import { isLayersModel, type ObservableModel } from './architecture.ts';
import { compiledLoss } from './model-loss.ts';

/** A batch the observer runs through the model to look inside it (activations, gradients). */
export interface ProbeBatch {
  x: tf.Tensor | tf.Tensor[];
  y?: tf.Tensor | tf.Tensor[];
}

/** Per-layer statistics, in the seed's shape (`layer_health.layers[name]`). */
export interface LayerHealth {
  activation_mean: number | null;
  activation_std: number | null;
  /** Fraction of the layer's units never above the zero threshold over the whole probe batch. */
  dead_fraction: number | null;
  gradient_norm_mean: number | null;
  weight_sparsity: number | null;
  /** Fraction of tanh/sigmoid outputs pinned at their limits (|a| > 0.99 for tanh; < 0.01 or > 0.99 for sigmoid). */
  saturated_fraction: number | null;
  /**
   * How much the layer's units differ from each other on the same sample (mean over samples of
   * the spread across units, over the layer's overall spread): near 0 when every unit computes
   * the same thing (constant or symmetric initialisation).
   */
  unit_diversity: number | null;
  /**
   * How much the layer's trainable weights moved since the previous measurement: the norm of
   * the change over the norm of the weights before (all of the layer's trainable variables
   * together). Exactly 0 when nothing updates them (a variable left out of the optimizer's
   * list); null at the first measurement.
   */
  update_ratio: number | null;
  is_dead: boolean;
  has_vanishing_gradients: boolean;
}

/** Statistics per layer, in this order, so one tensor carries them all. */
const FIELDS = ['activation_mean', 'activation_std', 'dead_fraction', 'gradient_norm_mean', 'weight_sparsity', 'saturated_fraction', 'unit_diversity', 'update_ratio'] as const;
const MISSING = -1e30;

/** A unit is dead when never active over the probe batch; a layer is dead when most of its units are. */
const DEAD_LAYER_FRACTION = 0.9;
const VANISHING_GRADIENT = 1e-7;

/** A layer as the collector sees it, from a tf.LayersModel or a custom model's named variables. */
interface Inspected {
  name: string;
  trainable: tf.Variable[];
  /** Weight matrices and kernels (rank >= 2), for sparsity. */
  kernels: () => tf.Tensor[];
  relu: boolean;
  /** The activation function, when known ('tanh', 'sigmoid'...). */
  activation: string | null;
}

/**
 * Computes per-layer health on the device: activation mean/std and dead units from a forward
 * pass of the probe batch, gradient norms from one backward pass (no weight update), weight
 * sparsity from the weights. Everything lands in one tensor, read back once at flush. A custom
 * model (named variables) gets gradient norms from its `probeLoss` and weight sparsity; its
 * activations are not reachable from outside.
 */
export class LayerHealthCollector {
  private readonly layers: Inspected[];
  private readonly inspector: tf.LayersModel | null;
  private pending: tf.Tensor2D | null = null;
  /**
   * Each layer's trainable weights at the previous measurement. A clone shares the variable's
   * buffer (no copy); an optimizer's update gives the variable a new buffer, so the clone
   * keeps the old values for as long as it is held: one set of weights per model.
   */
  private previous: tf.Tensor[][] | null = null;

  private readonly probe: ProbeBatch | null;
  /** Probe slices this collector made (the caller's probe is never disposed here). */
  private readonly owned: tf.Tensor[] = [];

  /**
   * @param maxProbe the most probe samples used (the first ones): a measurement costs a
   *   forward and backward pass over them, so it stays a fraction of a training step.
   */
  constructor(
    private readonly model: ObservableModel,
    probe: ProbeBatch | null,
    private readonly zeroThreshold: number,
    maxProbe = Infinity,
  ) {
    this.probe = probe ? this.capped(probe, maxProbe) : null;
    if (isLayersModel(model)) {
      const layers = model.layers.filter((l) => l.countParams() > 0 || l.getClassName() === 'Activation');
      this.layers = layers.map((l) => ({ name: l.name, trainable: l.trainableWeights.map((w) => (w as unknown as { read(): tf.Variable }).read()), kernels: () => l.getWeights().filter((w) => w.rank >= 2), relu: isRelu(l), activation: activationOf(l) }));
      // Every inspected layer's output, then the model's own unless it is the last of those
      // (the loss is taken from the inspector's last output).
      const outputs = layers.map((l) => l.output as tf.SymbolicTensor);
      if (outputs[outputs.length - 1] !== model.outputs[0]) outputs.push(model.outputs[0]!);
      this.inspector = probe && layers.length ? tf.model({ inputs: model.inputs, outputs }) : null;
    } else {
      this.layers = model.probeLoss
        ? Object.entries(model.layers)
            .filter(([, l]) => l.variables.length > 0)
            .map(([name, l]) => ({ name, trainable: l.variables.filter((v) => v.trainable), kernels: () => l.variables.filter((v) => v.rank >= 2), relu: l.activation === 'relu', activation: l.activation ?? null }))
        : [];
      this.inspector = null;
    }
  }

  /** Names of the layers reported, in model order. */
  get layerNames(): string[] {
    return this.layers.map((l) => l.name);
  }

  /** Dispatches the computation (no readback); the result waits on the device for `collect`. */
  measure(): void {
    if (!this.layers.length) return;
    // Activations and gradients come from one forward pass of the probe (kept out of the
    // gradient scope by hand and released below).
    const { acts, grads } = this.forwardAndGradients();
    try {
      const next = tf.tidy(() => {
        const rows: tf.Tensor1D[] = [];
        this.layers.forEach((layer, i) => {
          const a = acts?.[i];
          const stats: tf.Scalar[] = [];
          let extra: tf.Scalar[] = [tf.scalar(MISSING), tf.scalar(MISSING)];
          if (a) {
            const flat = a.reshape([a.shape[0]!, -1]);
            const { mean, variance } = tf.moments(flat);
            const everActive = flat.greater(this.zeroThreshold).any(0);
            const std = variance.sqrt() as tf.Scalar;
            stats.push(mean as tf.Scalar, std, tf.scalar(1).sub(everActive.cast('float32').mean()) as tf.Scalar);
            const saturated =
              layer.activation === 'tanh'
                ? (flat.abs().greater(0.99).cast('float32').mean() as tf.Scalar)
                : layer.activation === 'sigmoid'
                  ? (tf.logicalOr(flat.less(0.01), flat.greater(0.99)).cast('float32').mean() as tf.Scalar)
                  : tf.scalar(MISSING);
            const diversity = flat.shape[1]! >= 2 ? (tf.moments(flat, 1).variance.sqrt().mean().div(std.add(1e-12)) as tf.Scalar) : tf.scalar(MISSING);
            extra = [saturated, diversity];
          } else stats.push(tf.scalar(MISSING), tf.scalar(MISSING), tf.scalar(MISSING));
          const g = grads?.[layer.name];
          stats.push(g && g.length ? (tf.addN(g.map((t) => t.square().sum())).sqrt() as tf.Scalar) : tf.scalar(MISSING));
          // Weight sparsity is filled in at collect: weights move slowly, once per flush is enough.
          stats.push(tf.scalar(MISSING), ...extra, this.updateRatio(i));
          rows.push(tf.stack(stats) as tf.Tensor1D);
        });
        return tf.stack(rows) as tf.Tensor2D;
      });
      this.pending?.dispose();
      this.pending = next;
      tf.dispose(this.previous?.flat() ?? []);
      this.previous = this.layers.map((layer) => layer.trainable.map((w) => tf.keep(tf.clone(w))));
    } finally {
      tf.dispose([...(acts ?? []), ...Object.values(grads ?? {}).flat()]);
    }
  }

  /** ||w - w_before|| / ||w_before|| over the layer's trainable variables, on the device (inside measure's tidy). */
  private updateRatio(i: number): tf.Scalar {
    const before = this.previous?.[i];
    const now = this.layers[i]!.trainable;
    if (!before || before.length !== now.length || now.length === 0) return tf.scalar(MISSING);
    const change = tf.addN(now.map((w, k) => w.sub(before[k]!).square().sum()));
    const size = tf.addN(before.map((w) => w.square().sum()));
    return change.sqrt().div(size.sqrt().add(1e-12)) as tf.Scalar;
  }

  /**
   * Per-layer activations on the probe and the loss's gradients per layer (no optimizer step),
   * from one forward pass where the model allows: the inspector's outputs are every layer's
   * output and then the model's own, and the loss is taken from the latter.
   */
  private forwardAndGradients(): { acts: tf.Tensor[] | null; grads: Record<string, tf.Tensor[]> | null } {
    const model = this.model;
    const byLayer = (grads: tf.NamedTensorMap): Record<string, tf.Tensor[]> =>
      Object.fromEntries(this.layers.map((layer) => [layer.name, layer.trainable.map((w) => grads[w.name]).filter((t): t is tf.Tensor => t !== undefined)]));
    const vars = this.layers.flatMap((l) => l.trainable);
    if (!isLayersModel(model)) {
      if (!model.probeLoss) return { acts: null, grads: null };
      const { value, grads } = tf.variableGrads(model.probeLoss, vars);
      value.dispose();
      return { acts: null, grads: byLayer(grads) };
    }
    if (!this.inspector || !this.probe) return { acts: null, grads: null };
    const probe = this.probe;
    const lossFn = compiledLoss(model);
    const run = (): tf.Tensor[] => {
      const out = this.inspector!.apply(probe.x, { training: false }) as tf.Tensor | tf.Tensor[];
      return Array.isArray(out) ? out : [out];
    };
    if (!probe.y || !lossFn) {
      const outs = tf.tidy(run);
      tf.dispose(outs.slice(this.layers.length));
      return { acts: outs.slice(0, this.layers.length), grads: null };
    }
    const y = Array.isArray(probe.y) ? probe.y[0]! : probe.y;
    let acts: tf.Tensor[] = [];
    // Inference mode: batch-norm statistics must not move because the observer looked.
    const { value, grads } = tf.variableGrads(() => {
      const outs = run();
      acts = outs.slice(0, this.layers.length).map((t) => tf.keep(t));
      return lossFn(y, outs[outs.length - 1]!).mean() as tf.Scalar;
    }, vars);
    value.dispose();
    return { acts, grads: byLayer(grads) };
  }

  /** Reads the last measurement (one readback), or null when none was made since the last call. */
  async collect(): Promise<JsonObject | null> {
    const measured = this.pending;
    if (!measured) return null;
    this.pending = null;
    // The flush's one readback: the last measurement, then each layer's weight sparsity now.
    const t = tf.tidy(() => {
      const sparsity = this.layers.map((layer) => {
        const kernels = layer.kernels();
        return kernels.length ? (tf.addN(kernels.map((w) => w.abs().less(this.zeroThreshold).cast('float32').sum())).div(kernels.reduce((n, w) => n + w.size, 0)) as tf.Scalar) : tf.scalar(MISSING);
      });
      return tf.concat([measured.flatten(), tf.stack(sparsity)]);
    });
    measured.dispose();
    const all = await t.data();
    t.dispose();
    const sparsityAt = this.layers.length * FIELDS.length;
    const SPARSITY = FIELDS.indexOf('weight_sparsity');
    const layers: Record<string, LayerHealth> = {};
    this.layers.forEach((layer, i) => {
      const v = (k: number) => {
        const x = all[k === SPARSITY ? sparsityAt + i : i * FIELDS.length + k]!;
        // The sentinel went through float32: compare loosely.
        return x < MISSING / 2 ? null : x;
      };
      const h = Object.fromEntries(FIELDS.map((f, k) => [f, v(k)])) as unknown as LayerHealth;
      h.is_dead = h.dead_fraction !== null && h.dead_fraction >= DEAD_LAYER_FRACTION && layer.relu;
      h.has_vanishing_gradients = h.gradient_norm_mean !== null && Number.isFinite(h.gradient_norm_mean) && h.gradient_norm_mean < VANISHING_GRADIENT;
      layers[layer.name] = h;
    });
    return { layers: layers as unknown as JsonObject, zero_threshold: this.zeroThreshold, probe_samples: this.probeSize() };
  }

  /** The first `max` samples of each probe tensor. */
  private capped(probe: ProbeBatch, max: number): ProbeBatch {
    const cut = (t: tf.Tensor): tf.Tensor => {
      if (t.shape[0]! <= max) return t;
      const part = t.slice(0, max);
      this.owned.push(part);
      return part;
    };
    const each = (t: tf.Tensor | tf.Tensor[]) => (Array.isArray(t) ? t.map(cut) : cut(t));
    return { x: each(probe.x), ...(probe.y ? { y: each(probe.y) } : {}) };
  }

  private probeSize(): number {
    const x = this.probe?.x;
    return x ? (Array.isArray(x) ? x[0]!.shape[0]! : x.shape[0]!) : 0;
  }

  /** The first layer, in model order, with a non-finite statistic. */
  static firstNonFinite(health: JsonObject | null): string | null {
    const layers = (health?.layers ?? {}) as Record<string, Record<string, unknown>>;
    for (const [name, h] of Object.entries(layers))
      if (['activation_mean', 'activation_std', 'gradient_norm_mean'].some((k) => typeof h[k] === 'number' && !Number.isFinite(h[k] as number))) return name;
    return null;
  }

  dispose(): void {
    this.pending?.dispose();
    this.pending = null;
    tf.dispose(this.previous?.flat() ?? []);
    this.previous = null;
    tf.dispose(this.owned.splice(0));
  }
}

function activationOf(layer: tf.layers.Layer): string | null {
  const act = (layer.getConfig() as { activation?: unknown }).activation;
  return typeof act === 'string' ? act : null;
}

/** Dead units are a ReLU-family notion: sigmoid/tanh/softmax outputs are never "inactive" in that sense. */
function isRelu(layer: tf.layers.Layer): boolean {
  const act = (layer.getConfig() as { activation?: string }).activation;
  return act === 'relu' || act === 'relu6' || (layer.getClassName() === 'ReLU');
}
