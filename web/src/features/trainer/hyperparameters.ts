/** What the trainer's form sets: the model and its training, and the faults it can plant. */
import type { GptConfig } from './minigpt.ts';

export type ModelKind = 'mlp' | 'cnn' | 'minigpt';

export interface Hyperparameters {
  model: ModelKind;
  learningRate: number;
  batchSize: number;
  steps: number;
  flushEvery: number;
  /** Model size: hidden units (MLP, CNN) or embedding width (MiniGPT). */
  hidden: number;
  /** Transformer blocks (MiniGPT). */
  layers: number;
  /** Characters of context (MiniGPT). */
  context: number;
}

/** Known problems the trainer can plant, so diagnostics can be seen at work. */
export interface Faults {
  /** Multiply the learning rate by 100 from this step (null: off). */
  lrSpikeAt: number | null;
  /** Report a NaN loss at these steps. */
  nanAt: number[];
  /** Initialise ReLU biases strongly negative: most units never fire. */
  deadRelu: boolean;
  /** Keep one tensor per step alive (a classic tfjs leak). */
  leak: boolean;
}

/** MiniGPT's configuration from the form's hyperparameters (four heads). */
export const gptConfig = (h: Hyperparameters, vocab: number): GptConfig => ({ vocab, context: h.context, dim: h.hidden, heads: 4, layers: h.layers });
