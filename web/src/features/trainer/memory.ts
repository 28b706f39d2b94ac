/**
 * The memory check: whether a model fits the device before anything is allocated. Pure
 * arithmetic on the hyperparameters, so it is tested without a device.
 */
import { gptConfig, type Hyperparameters } from './hyperparameters.ts';
import { gptParameters } from './minigpt.ts';

/** What a backend can hold (see `backendLimits`). */
export interface MemoryLimits {
  /** The largest single tensor, in bytes (WebGPU's buffer binding limit, WebGL's texture). */
  maxTensorBytes: number;
  /** The memory a model may use in all, in bytes. */
  budgetBytes: number;
}

/**
 * Whether a model of these hyperparameters fits the backend, before anything is allocated:
 * its largest single tensor against the device's biggest buffer (WebGPU's
 * maxStorageBufferBindingSize, WebGL's texture size) and its estimated total (weights, Adam's
 * two moments, gradients, activations) against the memory the browser reports. Returns why
 * not, or null.
 */
export function memoryCheck(h: Hyperparameters, vocab: number, limits: MemoryLimits): string | null {
  const f = 4;
  let params: number;
  let largest: number;
  let activations: number;
  if (h.model === 'minigpt') {
    const c = gptConfig(h, vocab);
    params = gptParameters(c);
    const tokens = h.batchSize * c.context;
    largest = Math.max(h.batchSize * c.heads * c.context * c.context, tokens * 4 * c.dim, tokens * vocab, vocab * c.dim, 4 * c.dim * c.dim);
    activations = c.layers * (h.batchSize * c.heads * c.context * c.context * 3 + tokens * c.dim * 16) + tokens * vocab * 3;
  } else if (h.model === 'cnn') {
    params = 8 * 9 + 8 + 16 * 8 * 9 + 16 + 400 * h.hidden + h.hidden + h.hidden * 10 + 10;
    largest = Math.max(h.batchSize * 26 * 26 * 8, 400 * h.hidden);
    activations = h.batchSize * (26 * 26 * 8 * 3 + 11 * 11 * 16 * 3 + h.hidden * 3);
  } else {
    params = 784 * h.hidden + h.hidden * h.hidden + h.hidden * 10 + 2 * h.hidden + 10;
    largest = Math.max(784 * h.hidden, h.hidden * h.hidden, h.batchSize * h.hidden);
    activations = h.batchSize * (784 + h.hidden * 6);
  }
  const mb = (n: number) => (n >= 2 ** 30 ? `${(n / 2 ** 30).toFixed(1)} GiB` : `${(n / 2 ** 20).toFixed(0)} MiB`);
  if (largest * f > limits.maxTensorBytes)
    return `its largest tensor needs ${mb(largest * f)}, and this backend holds at most ${mb(limits.maxTensorBytes)} in one buffer`;
  const total = (params * 4 + activations) * f;
  if (total > limits.budgetBytes) return `it needs about ${mb(total)} (${params.toLocaleString()} parameters with Adam's state, plus activations), and this device offers about ${mb(limits.budgetBytes)}`;
  return null;
}

/** A model that does not fit, said before it is built. */
export class ModelTooBigError extends Error {
  constructor(why: string) {
    super(`The model does not fit in this device's memory: ${why}. Make it smaller (model size, layers, context) or use a smaller batch.`);
    this.name = 'ModelTooBigError';
  }
}
