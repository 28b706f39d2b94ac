import { describe, expect, it } from 'vitest';
import { deepWithoutNormalisation, dominantLayer, frozenFromScratch, lossActivationMismatch } from './architecture.ts';
import { contextOf, modelOf } from './fixtures.ts';

const dense = (n: number) => Array.from({ length: n }, (_, i) => [`dense_${i}`, 'Dense', 1000] as [string, string, number]);

describe('architecture rules', () => {
  it('warns about 12 dense layers without normalisation or residuals', () => {
    expect(deepWithoutNormalisation(contextOf([], { model: modelOf(dense(12)) }))[0]?.code).toBe('architecture.deep_without_normalisation');
  });

  it('accepts a deep net with batch normalisation, and a shallow one', () => {
    const withNorm = modelOf([...dense(12), ['bn', 'BatchNormalization', 64]]);
    expect(deepWithoutNormalisation(contextOf([], { model: withNorm }))).toEqual([]);
    expect(deepWithoutNormalisation(contextOf([], { model: modelOf(dense(3)) }))).toEqual([]);
  });

  it('notes one layer with 90% of a large model, as info only', () => {
    const model = modelOf([['big', 'Dense', 900_000], ['head', 'Dense', 100_000]]);
    expect(dominantLayer(contextOf([], { model }))[0]).toMatchObject({ severity: 'info', layerId: 'big' });
    expect(dominantLayer(contextOf([], { model: modelOf([['a', 'Dense', 500_000], ['b', 'Dense', 500_000]]) }))).toEqual([]);
  });

  it('calls categorical cross-entropy on a sigmoid output critical', () => {
    const model = modelOf([['hidden', 'Dense', 100, 'relu'], ['out', 'Dense', 10, 'sigmoid']], { loss: 'categoricalCrossentropy' });
    expect(lossActivationMismatch(contextOf([], { model }))[0]).toMatchObject({ severity: 'critical', layerId: 'out' });
  });

  it('accepts softmax with categorical cross-entropy and sigmoid with binary', () => {
    const a = modelOf([['out', 'Dense', 10, 'softmax']], { loss: 'categoricalCrossentropy' });
    const b = modelOf([['out', 'Dense', 1, 'sigmoid']], { loss: 'binaryCrossentropy' });
    expect(lossActivationMismatch(contextOf([], { model: a }))).toEqual([]);
    expect(lossActivationMismatch(contextOf([], { model: b }))).toEqual([]);
  });

  it('warns about a frozen layer in a model trained from scratch, not in a fine-tuned one', () => {
    const model = (hp = {}) => {
      const m = modelOf([['base', 'Dense', 1000, 'relu'], ['head', 'Dense', 100, 'softmax']], hp);
      (m.architecture!.layers as Record<string, Record<string, unknown>>).base!.trainable = false;
      return m;
    };
    expect(frozenFromScratch(contextOf([], { model: model() }))[0]).toMatchObject({ code: 'architecture.frozen_layer', severity: 'warning', layerId: 'base' });
    expect(frozenFromScratch(contextOf([], { model: model({ start: 'fine_tuned' }) }))).toEqual([]);
    expect(frozenFromScratch(contextOf([], { model: modelOf(dense(3)) }))).toEqual([]);
  });
});
