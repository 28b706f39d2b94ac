import { describe, expect, it } from 'vitest';
import type { LayerHealthEntry } from '../types.ts';
import { contextOf, stepsWithLoss } from './fixtures.ts';
import { deadLayer, explodingActivations, explodingGradients, nonFiniteLayer, saturatedLayer, sparseWeights, symmetricUnits, vanishingGradients } from './layer-health.ts';

const healthy: LayerHealthEntry = { activation_mean: 0.4, activation_std: 0.3, gradient_norm_mean: 0.01, weight_sparsity: 0.01, is_dead: false, has_vanishing_gradients: false };
const withLayers = (flushes: Record<string, Partial<LayerHealthEntry>>[]) =>
  stepsWithLoss(flushes.map(() => 1), (i) => ({
    layer_health: { layers: Object.fromEntries(Object.entries(flushes[i]!).map(([k, v]) => [k, { ...healthy, ...v }])) },
  }));

describe('layer health rules', () => {
  it('names the first layer whose gradient went NaN, as critical', () => {
    const steps = withLayers([{ dense_1: {}, dense_2: { gradient_norm_mean: Number.NaN }, dense_3: { gradient_norm_mean: Number.NaN } }]);
    expect(nonFiniteLayer(contextOf(steps))[0]).toMatchObject({ severity: 'critical', layerId: 'dense_2' });
  });

  it('flags a layer dead in two of the last three flushes, not after one', () => {
    expect(deadLayer(contextOf(withLayers([{ d: {} }, { d: { is_dead: true } }, { d: { is_dead: true } }])))[0]?.layerId).toBe('d');
    expect(deadLayer(contextOf(withLayers([{ d: {} }, { d: {} }, { d: { is_dead: true } }])))).toEqual([]);
  });

  it('flags vanishing gradients by flag or by a norm under 1e-7', () => {
    const steps = withLayers([{ d: { gradient_norm_mean: 1e-9 } }, { d: { has_vanishing_gradients: true, gradient_norm_mean: 1e-8 } }]);
    expect(vanishingGradients(contextOf(steps))[0]?.code).toBe('layer.vanishing_gradients');
    expect(vanishingGradients(contextOf(withLayers([{ d: {} }, { d: {} }])))).toEqual([]);
  });

  it('leaves the zero gradients of a model that fits its data alone (convergence, not vanishing)', () => {
    // Gaussian blobs after 5,000 steps: the loss went from 0.69 to 1.5e-4, the probe is fitted exactly.
    const zero = { d: { gradient_norm_mean: 0 } };
    const steps = withLayers([{ d: {} }, zero, zero, zero]);
    [0.69, 0.0003, 0.0002, 0.00015].forEach((l, i) => (steps[i]!.loss!.train_mean = l));
    expect(vanishingGradients(contextOf(steps))).toEqual([]);
    // The same gradients while the loss is still at 0.69: vanishing.
    steps.forEach((st) => (st.loss!.train_mean = 0.69));
    expect(vanishingGradients(contextOf(steps))[0]?.layerId).toBe('d');
  });

  it('flags gradients 100x above their early level', () => {
    const flushes = [...Array(5).fill({ d: { gradient_norm_mean: 0.01 } }), { d: { gradient_norm_mean: 5 } }, { d: { gradient_norm_mean: 9 } }];
    const steps = withLayers(flushes);
    expect(explodingGradients(contextOf(steps, { early: steps.slice(0, 5) }))[0]?.layerId).toBe('d');
  });

  it('measures a rise against the flushes before it: a healthy rise after a long plateau of tiny gradients, while the loss falls, is learning', () => {
    const flushes = [...Array(20).fill({ d: { gradient_norm_mean: 1e-4 } }), ...Array(4).fill({ d: { gradient_norm_mean: 0.5 } })];
    const steps = withLayers(flushes);
    steps.forEach((st, i) => (st.loss!.train_mean = i < 20 ? 2.3 : 2.3 - 0.4 * (i - 19)));
    expect(explodingGradients(contextOf(steps, { early: steps.slice(0, 5) }))).toEqual([]);
    // Gradients large from step 0 still read as exploding against the absolute limit.
    const large = withLayers(Array(6).fill({ d: { gradient_norm_mean: 5e3 } }));
    expect(explodingGradients(contextOf(large))[0]?.layerId).toBe('d');
  });

  it('leaves steady gradients alone', () => {
    const steps = withLayers(Array(10).fill({ d: { gradient_norm_mean: 0.5 } }));
    expect(explodingGradients(contextOf(steps))).toEqual([]);
  });

  it('flags activations above 1e3 and weights 99% zero', () => {
    expect(explodingActivations(contextOf(withLayers([{ d: { activation_std: 5e3 } }, { d: { activation_std: 8e3 } }])))).toHaveLength(1);
    expect(sparseWeights(contextOf(withLayers([{ d: { weight_sparsity: 0.99 } }, { d: { weight_sparsity: 0.99 } }])))).toHaveLength(1);
    expect(sparseWeights(contextOf(withLayers([{ d: { weight_sparsity: 0.5 } }, { d: { weight_sparsity: 0.5 } }])))).toEqual([]);
  });

  it('flags a tanh layer pinned at its limits, and leaves a working one alone', () => {
    expect(saturatedLayer(contextOf(withLayers([{ t: { saturated_fraction: 0.9 } }, { t: { saturated_fraction: 0.95 } }])))[0]).toMatchObject({ code: 'layer.saturated', layerId: 't' });
    expect(saturatedLayer(contextOf(withLayers([{ t: { saturated_fraction: 0.1 } }, { t: { saturated_fraction: 0.2 } }])))).toEqual([]);
  });

  it('flags identical units (symmetric init) but not a dead layer with no spread at all', () => {
    expect(symmetricUnits(contextOf(withLayers([{ h: { unit_diversity: 1e-4 } }, { h: { unit_diversity: 2e-4 } }])))[0]?.layerId).toBe('h');
    expect(symmetricUnits(contextOf(withLayers([{ h: { unit_diversity: 0, activation_std: 0 } }, { h: { unit_diversity: 0, activation_std: 0 } }])))).toEqual([]);
    expect(symmetricUnits(contextOf(withLayers([{ h: { unit_diversity: 0.9 } }, { h: { unit_diversity: 1.1 } }])))).toEqual([]);
  });
});
