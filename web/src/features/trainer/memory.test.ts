import { describe, expect, it } from 'vitest';
import type { Hyperparameters } from './hyperparameters.ts';
import { memoryCheck, ModelTooBigError } from './memory.ts';

const GiB = 2 ** 30;
const MiB = 2 ** 20;
/** WebGPU's default buffer binding limit, and half of a 4 GiB device. */
const webgpu = { maxTensorBytes: 128 * MiB, budgetBytes: 2 * GiB };
const VOCAB = 89;

const hyper = (h: Partial<Hyperparameters>): Hyperparameters => ({ model: 'mlp', learningRate: 0.001, batchSize: 64, steps: 300, flushEvery: 20, hidden: 64, layers: 2, context: 64, ...h });

describe('memoryCheck', () => {
  it("lets the trainer's defaults through", () => {
    expect(memoryCheck(hyper({}), 0, webgpu)).toBeNull();
    expect(memoryCheck(hyper({ model: 'cnn' }), 0, webgpu)).toBeNull();
    expect(memoryCheck(hyper({ model: 'minigpt', learningRate: 0.003, batchSize: 16, steps: 400 }), VOCAB, webgpu)).toBeNull();
  });

  it('refuses a MiniGPT whose largest tensor exceeds one buffer, saying how big it is', () => {
    const why = memoryCheck(hyper({ model: 'minigpt', hidden: 100_000, batchSize: 4, context: 16 }), VOCAB, webgpu);
    // The 4d x d MLP weight: 4 * 1e10 floats, 149 GiB, against 128 MiB.
    expect(why).toBe('its largest tensor needs 149.0 GiB, and this backend holds at most 128 MiB in one buffer');
  });

  it('refuses an MLP whose tensors each fit but whose total does not, counting parameters and Adam state', () => {
    const why = memoryCheck(hyper({ hidden: 4096 }), 0, { maxTensorBytes: 2 ** 31 - 1, budgetBytes: 256 * MiB });
    expect(why).toMatch(/^it needs about \d+ MiB \(20,[\d,]+ parameters with Adam's state, plus activations\), and this device offers about 256 MiB$/);
  });

  it('grows with the attention matrix: a long context is refused where a short one fits', () => {
    const limits = { maxTensorBytes: 128 * MiB, budgetBytes: 512 * MiB };
    expect(memoryCheck(hyper({ model: 'minigpt', batchSize: 16, context: 64 }), VOCAB, limits)).toBeNull();
    expect(memoryCheck(hyper({ model: 'minigpt', batchSize: 16, context: 1024 }), VOCAB, limits)).toMatch(/largest tensor needs/);
  });
});

describe('ModelTooBigError', () => {
  it('says what to change', () => {
    const e = new ModelTooBigError('its largest tensor needs 2 GiB');
    expect(e.name).toBe('ModelTooBigError');
    expect(e.message).toBe("The model does not fit in this device's memory: its largest tensor needs 2 GiB. Make it smaller (model size, layers, context) or use a smaller batch.");
  });
});
