import { describe, expect, it } from 'vitest';
import { downsample } from './downsample.ts';

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

describe('downsample', () => {
  it('leaves a series of at most two points per bucket untouched', () => {
    const xs = range(100);
    const series = [xs.map((x) => x * 2)];
    const d = downsample(xs, series, 50);
    expect(d.xs).toBe(xs);
    expect(d.series).toBe(series);
  });

  it('keeps at most a min and a max per pixel of a long series, in order', () => {
    const xs = range(100_000);
    const d = downsample(xs, [xs.map((x) => Math.sin(x / 100))], 500);
    expect(d.xs.length).toBeLessThanOrEqual(1000);
    expect(d.xs.length).toBeGreaterThan(500);
    expect(d.xs.every((x, i) => i === 0 || x > d.xs[i - 1]!)).toBe(true);
    expect(d.series[0]).toHaveLength(d.xs.length);
  });

  it('keeps a one-point spike that a stride would skip', () => {
    const xs = range(10_000);
    const values: (number | null)[] = xs.map(() => 1);
    values[4321] = 1000;
    values[8765] = -50;
    const d = downsample(xs, [values], 100);
    expect(d.xs).toContain(4321);
    expect(d.xs).toContain(8765);
    expect(d.series[0]![d.xs.indexOf(4321)]).toBe(1000);
    expect(d.series[0]![d.xs.indexOf(8765)]).toBe(-50);
  });

  it('keeps non-finite values (drawn as markers) and skips gaps', () => {
    const xs = range(5_000);
    const values: (number | null)[] = xs.map((x) => (x < 2_500 ? null : x));
    values[1234] = Number.NaN;
    values[1500] = Infinity;
    const d = downsample(xs, [values], 100);
    expect(d.xs).toContain(1234);
    expect(d.xs).toContain(1500);
    expect(d.series[0]!.filter((v) => v === null)).toEqual([]);
  });

  it('keeps the extremes of every series, each at its own x', () => {
    const xs = range(4_000);
    const a = xs.map(() => 0);
    const b = xs.map(() => 0);
    a[10] = 5;
    b[3_990] = 7;
    const d = downsample(xs, [a, b], 50);
    expect(d.series[0]![d.xs.indexOf(10)]).toBe(5);
    expect(d.series[1]![d.xs.indexOf(3_990)]).toBe(7);
  });
});
