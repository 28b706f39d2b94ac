import { describe, expect, it } from 'vitest';
import { isLossMetric } from './metric-names.ts';

describe('isLossMetric', () => {
  it('knows losses however they are spelled', () => {
    for (const name of ['loss', 'val_loss', 'valLoss', 'val-loss', 'VAL_LOSS', 'valloss', 'val_total_loss', 'lossAvg'])
      expect(isLossMetric(name), name).toBe(true);
  });

  it('counts the metrics that are losses by nature', () => {
    for (const name of [
      'val_cross_entropy',
      'val_categoricalCrossentropy',
      'sparse_categorical_crossentropy',
      'val_mse',
      'MSE',
      'val_mae',
      'val_rmse',
      'meanSquaredError',
      'val_mean_absolute_error',
      'val_nll',
      'perplexity',
      'val_ppl',
      'kl_divergence',
      'val_kld',
      'val_xent',
    ])
      expect(isLossMetric(name), name).toBe(true);
  });

  it('does not count scores and rates, nor words that only contain a loss abbreviation', () => {
    for (const name of ['val_accuracy', 'val_acc', 'accuracy', 'valAccuracy', 'val_f1', 'f1_score', 'precision', 'val_recall', 'val_auc', 'val_iou', 'top_k_categorical_accuracy', 'val_error_rate', 'dice', 'val_mean_iou', 'val_precision_at_recall', 'samples', 'val_maelstrom_score'])
      expect(isLossMetric(name), name).toBe(false);
  });
});
