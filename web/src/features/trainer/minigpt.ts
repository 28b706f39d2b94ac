/**
 * The seed's MiniGPT as a character-level language model in plain tfjs variables: token and
 * position embeddings, pre-norm transformer blocks (causal multi-head self-attention and a
 * GELU MLP, each with a residual connection), a final layer norm and a linear head.
 */
import * as tf from '@tensorflow/tfjs';
import type { CustomModel } from '@observer/tfjs';

export interface GptConfig {
  vocab: number;
  /** Context length (characters seen at once). */
  context: number;
  /** Embedding width; a multiple of `heads`. */
  dim: number;
  heads: number;
  layers: number;
}

interface Block {
  ln1: { g: tf.Variable; b: tf.Variable };
  attn: { wqkv: tf.Variable; bqkv: tf.Variable; wo: tf.Variable; bo: tf.Variable };
  ln2: { g: tf.Variable; b: tf.Variable };
  mlp: { w1: tf.Variable; b1: tf.Variable; w2: tf.Variable; b2: tf.Variable };
}

/** Parameter count of a configuration (what the memory check and the page show before building). */
export function gptParameters(c: GptConfig): number {
  const d = c.dim;
  const block = 2 * d + (3 * d * d + 3 * d) + (d * d + d) + 2 * d + (4 * d * d + 4 * d) + (4 * d * d + d);
  return c.vocab * d + c.context * d + c.layers * block + 2 * d + d * c.vocab + c.vocab;
}

export class MiniGpt {
  readonly config: GptConfig;
  private readonly wte: tf.Variable;
  private readonly wpe: tf.Variable;
  private readonly blocks: Block[];
  private readonly lnf: { g: tf.Variable; b: tf.Variable };
  private readonly head: { w: tf.Variable; b: tf.Variable };
  private readonly mask: tf.Tensor2D;

  constructor(config: GptConfig, seed = 1) {
    if (config.dim % config.heads !== 0) throw new Error(`model size ${config.dim} is not a multiple of ${config.heads} heads`);
    this.config = config;
    const { vocab, context, dim, layers } = config;
    let s = seed;
    const normal = (shape: number[], std: number, name: string) => tf.variable(tf.randomNormal(shape, 0, std, 'float32', s++), true, name);
    const zeros = (shape: number[], name: string) => tf.variable(tf.zeros(shape), true, name);
    const ones = (shape: number[], name: string) => tf.variable(tf.ones(shape), true, name);
    // GPT-2's initialisation: N(0, 0.02), residual projections scaled by 1/sqrt(2 * layers).
    const residualStd = 0.02 / Math.sqrt(2 * layers);
    this.wte = normal([vocab, dim], 0.02, 'wte');
    this.wpe = normal([context, dim], 0.02, 'wpe');
    this.blocks = Array.from({ length: layers }, (_, i) => ({
      ln1: { g: ones([dim], `h${i}.ln1.g`), b: zeros([dim], `h${i}.ln1.b`) },
      attn: {
        wqkv: normal([dim, 3 * dim], 0.02, `h${i}.attn.wqkv`),
        bqkv: zeros([3 * dim], `h${i}.attn.bqkv`),
        wo: normal([dim, dim], residualStd, `h${i}.attn.wo`),
        bo: zeros([dim], `h${i}.attn.bo`),
      },
      ln2: { g: ones([dim], `h${i}.ln2.g`), b: zeros([dim], `h${i}.ln2.b`) },
      mlp: {
        w1: normal([dim, 4 * dim], 0.02, `h${i}.mlp.w1`),
        b1: zeros([4 * dim], `h${i}.mlp.b1`),
        w2: normal([4 * dim, dim], residualStd, `h${i}.mlp.w2`),
        b2: zeros([dim], `h${i}.mlp.b2`),
      },
    }));
    this.lnf = { g: ones([dim], 'ln_f.g'), b: zeros([dim], 'ln_f.b') };
    this.head = { w: normal([dim, vocab], 0.02, 'head.w'), b: zeros([vocab], 'head.b') };
    // Causal mask: -1e9 above the diagonal, so position t attends to positions <= t only.
    this.mask = tf.tidy(() => tf.linalg.bandPart(tf.ones([context, context]), -1, 0).sub(1).mul(1e9) as tf.Tensor2D);
  }

  /**
   * The model as the Observer sees it: named layers with their variables, and the graph with
   * its residual connections.
   */
  describe(): CustomModel {
    const layers: CustomModel['layers'] = {
      token_embedding: { type: 'Embedding', variables: [this.wte] },
      position_embedding: { type: 'Embedding', variables: [this.wpe] },
    };
    const edges: { source: string; target: string }[] = [];
    const add = (name: string, ...sources: string[]) => {
      layers[name] = { type: 'Add', variables: [] };
      for (const source of sources) edges.push({ source, target: name });
    };
    add('embed', 'token_embedding', 'position_embedding');
    let stream = 'embed';
    this.blocks.forEach((b, i) => {
      const p = `h${i}`;
      layers[`${p}.ln1`] = { type: 'LayerNorm', variables: [b.ln1.g, b.ln1.b] };
      layers[`${p}.attn`] = { type: 'CausalSelfAttention', variables: [b.attn.wqkv, b.attn.bqkv, b.attn.wo, b.attn.bo] };
      edges.push({ source: stream, target: `${p}.ln1` }, { source: `${p}.ln1`, target: `${p}.attn` });
      // Residual connections: the stream skips each sub-layer and is added to its output.
      add(`${p}.add1`, stream, `${p}.attn`);
      layers[`${p}.ln2`] = { type: 'LayerNorm', variables: [b.ln2.g, b.ln2.b] };
      layers[`${p}.mlp`] = { type: 'MLP', variables: [b.mlp.w1, b.mlp.b1, b.mlp.w2, b.mlp.b2], activation: 'gelu' };
      edges.push({ source: `${p}.add1`, target: `${p}.ln2` }, { source: `${p}.ln2`, target: `${p}.mlp` });
      add(`${p}.add2`, `${p}.add1`, `${p}.mlp`);
      stream = `${p}.add2`;
    });
    layers.ln_f = { type: 'LayerNorm', variables: [this.lnf.g, this.lnf.b] };
    layers.head = { type: 'Dense', variables: [this.head.w, this.head.b] };
    edges.push({ source: stream, target: 'ln_f' }, { source: 'ln_f', target: 'head' });
    return { name: 'MiniGPT', layers, edges };
  }

  get variables(): tf.Variable[] {
    return [this.wte, this.wpe, ...this.blocks.flatMap((b) => [b.ln1.g, b.ln1.b, b.attn.wqkv, b.attn.bqkv, b.attn.wo, b.attn.bo, b.ln2.g, b.ln2.b, b.mlp.w1, b.mlp.b1, b.mlp.w2, b.mlp.b2]), this.lnf.g, this.lnf.b, this.head.w, this.head.b];
  }

  /** Next-character logits for each position: tokens [batch, time] (int32) → [batch, time, vocab]. */
  logits(tokens: tf.Tensor2D): tf.Tensor3D {
    return tf.tidy(() => {
      const [batch, time] = tokens.shape;
      const { dim, heads, vocab } = this.config;
      const dh = dim / heads;
      // One-hot times the table rather than gather: the same result, and its gradient is a
      // matmul (gather's, unsortedSegmentSum, is very slow on the cpu backend).
      const embedded = tf.oneHot(tokens.reshape([-1]), vocab).matMul(this.wte).reshape([batch, time, dim]);
      let x = embedded.add(this.wpe.slice([0, 0], [time, dim])) as tf.Tensor3D;
      const mask = this.mask.slice([0, 0], [time, time]);
      const split = (t: tf.Tensor) => t.reshape([batch, time, heads, dh]).transpose([0, 2, 1, 3]);
      for (const b of this.blocks) {
        const h = layerNorm(x, b.ln1.g, b.ln1.b).reshape([batch * time, dim]);
        const qkv = h.matMul(b.attn.wqkv).add(b.attn.bqkv);
        const [q, k, v] = tf.split(qkv, 3, 1).map(split) as [tf.Tensor4D, tf.Tensor4D, tf.Tensor4D];
        const att = tf.softmax(tf.matMul(q, k, false, true).mul(1 / Math.sqrt(dh)).add(mask));
        const y = tf.matMul(att, v).transpose([0, 2, 1, 3]).reshape([batch * time, dim]);
        x = x.add(y.matMul(b.attn.wo).add(b.attn.bo).reshape([batch, time, dim]));
        const m = layerNorm(x, b.ln2.g, b.ln2.b).reshape([batch * time, dim]);
        const up = gelu(m.matMul(b.mlp.w1).add(b.mlp.b1));
        x = x.add(up.matMul(b.mlp.w2).add(b.mlp.b2).reshape([batch, time, dim]));
      }
      const out = layerNorm(x, this.lnf.g, this.lnf.b).reshape([batch * time, dim]);
      return out.matMul(this.head.w).add(this.head.b).reshape([batch, time, vocab]);
    });
  }

  /** Mean next-character cross-entropy (nats) of `targets` [batch, time] given `tokens`. */
  loss(tokens: tf.Tensor2D, targets: tf.Tensor2D): tf.Scalar {
    return tf.tidy(() => {
      const logits = this.logits(tokens);
      const flat = logits.reshape([-1, this.config.vocab]);
      return tf.losses.softmaxCrossEntropy(tf.oneHot(targets.reshape([-1]), this.config.vocab), flat) as tf.Scalar;
    });
  }

  dispose(): void {
    tf.dispose([...this.variables, this.mask]);
  }
}

function layerNorm(x: tf.Tensor, g: tf.Tensor, b: tf.Tensor): tf.Tensor {
  const { mean, variance } = tf.moments(x, -1, true);
  return x.sub(mean).mul(tf.rsqrt(variance.add(1e-5))).mul(g).add(b);
}

/** GELU, tanh approximation (GPT-2's). */
function gelu(x: tf.Tensor): tf.Tensor {
  const inner = x.add(x.pow(3).mul(0.044715)).mul(Math.sqrt(2 / Math.PI));
  return x.mul(0.5).mul(inner.tanh().add(1));
}
