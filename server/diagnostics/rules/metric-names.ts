/**
 * Words that make a metric a loss: what the model is trained or judged to minimise, where a
 * NaN means the numbers broke. Matched as whole words of the name (`val_mse`, `MSE`).
 */
const LOSS_WORDS = new Set(['loss', 'losses', 'mse', 'mae', 'rmse', 'msle', 'rmsle', 'mape', 'nll', 'ppl', 'perplexity', 'xent', 'ce', 'bce', 'cce', 'kld', 'kl', 'huber', 'hinge', 'logcosh', 'poisson']);

/**
 * Phrases that make a metric a loss, matched inside the name once its words are joined:
 * `val_cross_entropy`, `categoricalCrossentropy`, `meanSquaredError`, `valloss`.
 */
const LOSS_PHRASES = ['loss', 'crossentropy', 'squarederror', 'absoluteerror', 'percentageerror', 'logarithmicerror', 'loglikelihood', 'perplexity', 'divergence'];

/** The lower-case words of a metric name, split at separators and camelCase humps. */
function wordsOf(name: string): string[] {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean);
}

/**
 * Whether a metric is a loss by its name: `loss`, `val_loss`, `valLoss`, and the metrics that
 * are losses by nature (cross-entropy, MSE, MAE, NLL, perplexity, KL divergence, ...). Anything
 * else (accuracy, f1, precision, AUC, an error rate, a custom score) is not: a NaN there usually
 * means the metric divided by zero, not that the model broke.
 *
 * @example isLossMetric('val_cross_entropy') // true
 * @example isLossMetric('val_accuracy') // false
 */
export function isLossMetric(name: string): boolean {
  let known = memo.get(name);
  if (known === undefined) {
    // A client sends the same few names every flush; a bound keeps odd clients from growing it.
    if (memo.size >= MEMO_LIMIT) memo.clear();
    memo.set(name, (known = classify(name)));
  }
  return known;
}

const memo = new Map<string, boolean>();
const MEMO_LIMIT = 1024;

function classify(name: string): boolean {
  const words = wordsOf(name);
  if (words.some((w) => LOSS_WORDS.has(w))) return true;
  const joined = words.join('');
  return LOSS_PHRASES.some((p) => joined.includes(p));
}
