import * as tf from '@tensorflow/tfjs';

/** Gradients as tfjs optimizers take them: by variable name, or as a list of named tensors. */
export type Gradients = tf.NamedTensorMap | { name: string; tensor: tf.Tensor }[];

/**
 * The gradients scaled so their global norm (the norm of all of them together) is at most
 * `maxNorm`: each multiplied by `maxNorm / max(norm, maxNorm)`. Computed on the device, no
 * readback; new tensors, in the same shape of container (the caller disposes both).
 */
export function clipByGlobalNorm<G extends Gradients>(grads: G, maxNorm: number): G {
  return tf.tidy(() => {
    const tensors = Array.isArray(grads) ? grads.map((g) => g.tensor) : Object.values(grads).filter((g): g is tf.Tensor => g != null);
    if (!tensors.length) return (Array.isArray(grads) ? [] : {}) as G;
    const norm = tf.sqrt(tf.addN(tensors.map((g) => tf.sum(tf.square(g)))));
    const scale = tf.div(tf.scalar(maxNorm), tf.maximum(norm, tf.scalar(maxNorm)));
    if (Array.isArray(grads)) return grads.map((g) => ({ name: g.name, tensor: tf.mul(g.tensor, scale) })) as G;
    return Object.fromEntries(Object.entries(grads).filter(([, g]) => g != null).map(([k, g]) => [k, tf.mul(g, scale)])) as G;
  });
}

/**
 * Makes the optimizer clip every update by global norm from now on: `minimize()` (what
 * `model.fit` and most loops call) and direct `applyGradients()` calls alike. `maxNorm()` is
 * read at each update (null: no clipping). Installed once per optimizer; returns whether it
 * was newly installed.
 */
export function installClipping(optimizer: tf.Optimizer, maxNorm: () => number | null): boolean {
  const o = optimizer as tf.Optimizer & { [CLIPPED]?: true };
  if (o[CLIPPED]) return false;
  const original = optimizer.applyGradients.bind(optimizer);
  o.applyGradients = (grads: Gradients) => {
    const norm = maxNorm();
    if (norm === null) return original(grads);
    const clipped = clipByGlobalNorm(grads, norm);
    original(clipped);
    tf.dispose(Array.isArray(clipped) ? clipped.map((g) => g.tensor) : Object.values(clipped));
  };
  o[CLIPPED] = true;
  return true;
}

const CLIPPED = Symbol('observer.clipping');
