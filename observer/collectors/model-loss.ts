import * as tf from '@tensorflow/tfjs';

/** `(yTrue, yPred) => loss`, as tfjs's named losses and metrics take them. */
export type LossFn = (yTrue: tf.Tensor, yPred: tf.Tensor) => tf.Tensor;

/** The loss a model was compiled with, as a function (tfjs keeps only its name until fit runs). */
export function compiledLoss(model: tf.LayersModel): LossFn | null {
  const loss = (model as unknown as { loss?: unknown }).loss;
  const first = Array.isArray(loss) ? loss[0] : loss;
  if (typeof first === 'function') return first as LossFn;
  if (typeof first !== 'string') return null;
  const byName = (tf.metrics as unknown as Record<string, unknown>)[first] ?? (tf.losses as unknown as Record<string, unknown>)[first];
  return typeof byName === 'function' ? (byName as LossFn) : null;
}
