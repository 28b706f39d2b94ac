import { describe, expect, it } from 'vitest';
import type { LogLine } from '../collectors/logs.ts';
import type { StepRecord } from '../record.ts';
import { MAX_LOG_CHARS, dropFirst, planBatch } from './batch.ts';
import { messageBytes, utf8Bytes } from './message-size.ts';
import type { OutboxItem } from './outbox.ts';

const step = (i: number, extra: Partial<StepRecord> = {}): OutboxItem => ({
  kind: 'step',
  record: { step_index: i, timestamp: '2024-01-01T00:00:00.000Z', duration_seconds: 0.5, loss: { train_mean: 1, train_min: 1, train_max: 1, train_std: 0, num_batches: 4 }, ...extra },
});
const line = (msg: string): LogLine => ({ ts: '2024-01-01T00:00:00.000Z', level: 'INFO', msg, module: 'user', kind: 'console' });
const logs = (...msgs: string[]): OutboxItem => ({ kind: 'logs', lines: msgs.map(line) });
/** What graphql-ws writes for the planned message, with a real-looking id. */
const wire = (b: { query: string | null; variables: Record<string, unknown> }) =>
  Buffer.byteLength(JSON.stringify({ id: crypto.randomUUID(), type: 'subscribe', payload: { query: b.query, variables: b.variables } }));

describe('planBatch', () => {
  it('counts UTF-8 bytes as the socket does, surrogate pairs included', () => {
    for (const s of ['plain', 'é€', '😀 and 𝄞', 'lone \ud800 half', '\ud83d']) expect(utf8Bytes(s)).toBe(Buffer.byteLength(s));
    expect(messageBytes('q', { a: '€' })).toBe(wire({ query: 'q', variables: { a: '€' } }));
  });

  it('fills a message with steps up to the byte budget, the next step not fitting', () => {
    const items = Array.from({ length: 40 }, (_, i) => step(i, { profiler: { note: 'x'.repeat(300) } }));
    const b = planBatch(items, 7, { budget: 4096 });
    expect(b.units).toBeGreaterThan(1);
    expect(b.units).toBeLessThan(40);
    expect(b.items).toBe(b.units);
    expect(wire(b)).toBeLessThanOrEqual(4096);
    const oneMore = planBatch(items, 7, { budget: 1 << 20, maxUnits: b.units + 1 });
    expect(wire(oneMore)).toBeGreaterThan(4096);
  });

  it('sends a step too big alone without its heaviest channels, keeping its index and loss, and says which', () => {
    const b = planBatch([step(3, { profiler: { kernels: 'k'.repeat(6000) }, layer_health: { layers: 'h'.repeat(3000) }, memory: { bytes: 1 } }), step(4)], 1, { budget: 8192 });
    // The reduced step leaves room for the next one.
    expect(b.units).toBe(2);
    expect(wire(b)).toBeLessThanOrEqual(8192);
    const sent = (b.variables.steps as Record<string, any>[])[0]!;
    expect(sent).toMatchObject({ stepIndex: 3, loss: { trainMean: 1 }, memory: { bytes: 1 }, layerHealth: { layers: 'h'.repeat(3000) } });
    expect(sent.profiler).toBeUndefined();
    expect(sent.extra.observer.omitted_to_fit).toEqual({ channels: ['profiler'], message_limit_bytes: 8192 });
    expect(b.trimmed.steps).toBe(1);
    expect(b.notes).toEqual(['step 3 sent without profiler to fit the 8192-byte message limit']);
  });

  it('drops a step that cannot fit even without optional channels, and goes on with the next', () => {
    const huge = step(0, { loss: { train_mean: 1, train_min: 1, train_max: 1, train_std: 0, num_batches: 1, val: Object.fromEntries(Array.from({ length: 500 }, (_, i) => [`val_metric_${i}`, i])) } });
    const b = planBatch([huge, step(1)], 1, { budget: 4096 });
    expect(b.dropped.steps).toEqual([0]);
    expect(b.items).toBe(2);
    expect((b.variables.steps as { stepIndex: number }[]).map((s) => s.stepIndex)).toEqual([1]);
    expect(b.notes[0]).toContain('step 0 dropped');
    expect(planBatch([huge], 1, { budget: 4096 }).query).toBeNull();
  });

  it('cuts a log line too big alone, counting multi-byte characters as bytes, with a marker saying how much', () => {
    const b = planBatch([logs('€'.repeat(5000), 'next')], 1, { budget: 4096 });
    expect(b.units).toBe(1);
    expect(wire(b)).toBeLessThanOrEqual(4096);
    expect(wire(b)).toBeGreaterThan(3900);
    const msg = (b.variables.logs as { msg: string }[])[0]!.msg;
    const kept = msg.indexOf('…');
    expect(msg.slice(kept)).toBe(`… [${5000 - kept} of 5000 characters cut by the observer]`);
    expect(b.rest).toEqual({ kind: 'logs', lines: [line('next')] });
    expect(b.items).toBe(0);
    expect(b.trimmed.logs).toBe(1);
  });

  it('batches lines across outbox items and leaves the rest of a part-sent item', () => {
    const b = planBatch([logs('a'.repeat(1000)), logs('b'.repeat(1000), 'c'.repeat(1000), 'd'.repeat(1000))], 1, { budget: 3500 });
    expect((b.variables.logs as { msg: string }[]).map((l) => l.msg[0])).toEqual(['a', 'b', 'c']);
    expect(b.items).toBe(1);
    expect(b.rest).toEqual({ kind: 'logs', lines: [line('d'.repeat(1000))] });
  });

  it('cuts a line longer than the server takes even when the bytes would fit', () => {
    const b = planBatch([logs('z'.repeat(MAX_LOG_CHARS + 10))], 1, { budget: 1 << 20 });
    expect((b.variables.logs as { msg: string }[])[0]!.msg.length).toBeLessThanOrEqual(MAX_LOG_CHARS);
    expect(b.trimmed.logs).toBe(1);
  });

  it('sends a model too big with its layer graph without it, and leaves out one that never fits', () => {
    const model: OutboxItem = { kind: 'model', architecture: { layers: { a: 1 }, layer_graph: { nodes: 'n'.repeat(5000) } }, hyperparameters: null };
    const b = planBatch([model], 1, { budget: 4096 });
    expect((b.variables.i as { architecture: object }).architecture).toEqual({ layers: { a: 1 } });
    expect(b.notes[0]).toContain('without its layer graph');
    const never = planBatch([{ ...model, architecture: { layers: 'l'.repeat(5000) } }], 1, { budget: 4096 });
    expect(never.query).toBeNull();
    expect(never.items).toBe(1);
  });

  it('drops only the first step or line of the head when one is refused alone', () => {
    expect(dropFirst([step(5), step(6)], 4096)).toMatchObject({ items: 1, dropped: { steps: [5] } });
    expect(dropFirst([logs('x', 'y')], 4096)).toMatchObject({ items: 0, rest: { kind: 'logs', lines: [line('y')] }, dropped: { logs: 1 } });
  });
});
