import { describe, expect, it } from 'vitest';
import { Outbox } from './outbox.ts';

const step = (i: number) => ({ kind: 'step' as const, record: { step_index: i, timestamp: '', duration_seconds: 0 } });

describe('Outbox', () => {
  it('keeps items in order and hands out runs of one kind', () => {
    const o = new Outbox(100);
    o.push({ kind: 'model', architecture: {}, hyperparameters: null });
    o.push(step(0));
    o.push(step(1));
    o.push({ kind: 'logs', lines: [] });
    o.push(step(2));
    expect(o.head(10).map((x) => x.kind)).toEqual(['model']);
    o.shift(1);
    expect(o.head(10)).toEqual([step(0), step(1)]);
    expect(o.head(1)).toEqual([step(0)]);
  });

  it('drops the oldest records past its bound, never the model, and counts them', () => {
    const o = new Outbox(3);
    o.push({ kind: 'model', architecture: {}, hyperparameters: null });
    for (let i = 0; i < 5; i++) o.push(step(i));
    expect(o.size).toBe(3);
    expect(o.pending().map((x) => (x.kind === "step" ? x.record.step_index : x.kind))).toEqual(['model', 3, 4]);
    expect(o.dropped.steps).toBe(3);
  });

  it('puts what is left of a part-sent head in its place, in the store too', () => {
    const puts: [number, unknown][] = [];
    const o = new Outbox(10, { put: (seq, item) => puts.push([seq, item]), delete: () => {}, setSession: () => {}, clear: () => {} });
    o.push({ kind: 'logs', lines: [] });
    o.push(step(0));
    o.replaceHead({ kind: 'logs', lines: [] as never[] });
    expect(o.size).toBe(2);
    expect(puts.map(([seq]) => seq)).toEqual([0, 1, 0]);
  });
});
