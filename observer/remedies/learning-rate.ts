import type * as tf from '@tensorflow/tfjs';

/**
 * How tfjs 4.22 keeps each optimizer's learning rate (tfjs-core/dist/optimizers): SGD and
 * Momentum in `learningRate` plus a scalar tensor `c` that `setLearningRate` rebuilds; Adam,
 * Adamax, RMSProp, Adagrad and Adadelta in the plain field `learningRate`, read at every
 * `applyGradients`. So a change takes effect at the next update, with no kernel and no read.
 */
interface LearningRateFields {
  learningRate?: unknown;
  setLearningRate?: (lr: number) => void;
}

/** The optimizers whose learning rate the observer can change (by `getClassName()`). */
export const LEARNING_RATE_OPTIMIZERS = ['SGD', 'Momentum', 'Adam', 'Adamax', 'RMSProp', 'Adagrad', 'Adadelta'] as const;

/** The optimizer's current learning rate, or null when it keeps none the observer can read. */
export function learningRateOf(optimizer: tf.Optimizer): number | null {
  const lr = (optimizer as unknown as LearningRateFields).learningRate;
  return typeof lr === 'number' && Number.isFinite(lr) ? lr : null;
}

/**
 * Sets the optimizer's learning rate (SGD and Momentum through `setLearningRate`, the others
 * in their field). Returns false, changing nothing, for an optimizer without one.
 */
export function setLearningRateOf(optimizer: tf.Optimizer, lr: number): boolean {
  const o = optimizer as unknown as LearningRateFields;
  if (typeof o.learningRate !== 'number') return false;
  if (typeof o.setLearningRate === 'function') o.setLearningRate(lr);
  else o.learningRate = lr;
  return true;
}
