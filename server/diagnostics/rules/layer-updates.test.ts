import { describe, expect, it } from 'vitest';
import type { LayerHealthEntry } from '../types.ts';
import { contextOf, stepsWithLoss } from './fixtures.ts';
import { frozenLayer } from './layer-updates.ts';

const withLayers = (flushes: Record<string, Partial<LayerHealthEntry>>[]) =>
  stepsWithLoss(flushes.map(() => 1), (i) => ({ layer_health: { layers: flushes[i]! as Record<string, LayerHealthEntry> } }));
const moving = { update_ratio: 0.01, gradient_norm_mean: 0.1 };
const still = { update_ratio: 0, gradient_norm_mean: 0.1 };

describe('frozen layer rule', () => {
  it('names a layer that never moves while it has a gradient and the others move (a variable left out of the optimizer)', () => {
    const steps = withLayers([{ a: { update_ratio: null }, b: { update_ratio: null } }, { a: still, b: moving }, { a: still, b: moving }]);
    const [i] = frozenLayer(contextOf(steps));
    expect(i).toMatchObject({ code: 'layer.frozen', severity: 'warning', layerId: 'a', category: 'layer_health' });
    expect(i!.description).toContain('threshold: exactly 0');
  });

  it('waits for two flushes, and leaves a dead layer (no gradient) and a run where nothing moves alone', () => {
    expect(frozenLayer(contextOf(withLayers([{ a: still, b: moving }])))).toEqual([]);
    const dead = { update_ratio: 0, gradient_norm_mean: 0 };
    expect(frozenLayer(contextOf(withLayers([{ a: dead, b: moving }, { a: dead, b: moving }])))).toEqual([]);
    expect(frozenLayer(contextOf(withLayers([{ a: still, b: still }, { a: still, b: still }])))).toEqual([]);
  });

  it('leaves layers that move, however little, alone', () => {
    const slow = { update_ratio: 1e-9, gradient_norm_mean: 0.1 };
    expect(frozenLayer(contextOf(withLayers([{ a: slow, b: moving }, { a: slow, b: moving }, { a: slow, b: moving }])))).toEqual([]);
  });
});
