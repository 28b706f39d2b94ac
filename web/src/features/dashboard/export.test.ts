import Papa from 'papaparse';
import { describe, expect, it } from 'vitest';
import { fetchAll, PAGE_SIZE, stepsCsv, type CsvStep } from './export.ts';

const step = (stepIndex: number, loss: Partial<NonNullable<CsvStep['loss']>> = {}): CsvStep => ({
  stepIndex,
  durationSeconds: 0.5,
  loss: { trainMean: 1, trainMin: 0.5, trainMax: 2, trainStd: 0.1, numBatches: 4, val: null, ...loss },
  throughput: { samplesPerSecond: 100, tokensPerSecond: null },
  memory: { numTensors: 12, numBytes: 4096 },
});

/** A list served like the API's: ascending cursors, at most `first` after `after`. */
function server(count: number) {
  const items = Array.from({ length: count }, (_, i) => ({ stepIndex: i }));
  const calls: (number | null)[] = [];
  const page = async (after: number | null, first: number) => {
    calls.push(after);
    return items.filter((s) => after === null || s.stepIndex > after).slice(0, Math.min(first, PAGE_SIZE.steps));
  };
  return { page, calls };
}

describe('fetchAll', () => {
  it('fetches every page until a short one ends the list: 25,000 steps in 3 pages', async () => {
    const s = server(25_000);
    const all = await fetchAll(s.page, (x) => x.stepIndex, PAGE_SIZE.steps);
    expect(all).toHaveLength(25_000);
    expect(all.every((x, i) => x.stepIndex === i)).toBe(true);
    expect(s.calls).toEqual([null, 9_999, 19_999]);
  });

  it('asks once more when the last page is exactly full, and stops at the empty one', async () => {
    const s = server(20_000);
    expect(await fetchAll(s.page, (x) => x.stepIndex, PAGE_SIZE.steps)).toHaveLength(20_000);
    expect(s.calls).toEqual([null, 9_999, 19_999]);
  });

  it('returns an empty list for a session with no steps', async () => {
    expect(await fetchAll(server(0).page, (x) => x.stepIndex, PAGE_SIZE.steps)).toEqual([]);
  });

  it('refuses to loop when a server ignores the cursor', async () => {
    const full = Array.from({ length: 3 }, (_, i) => ({ id: i }));
    await expect(fetchAll(async () => full, (x) => x.id, 3)).rejects.toThrow(/did not advance/);
  });
});

describe('stepsCsv', () => {
  it('keeps a metric named "a,b" in one column and neutralises a cell that starts with =', () => {
    const csv = stepsCsv([step(0, { val: { 'a,b': 0.25, '=HYPERLINK("x")': 1 } }), step(1, { val: { 'a,b': '=cmd()' } })]);
    const { data, errors } = Papa.parse<string[]>(csv, { skipEmptyLines: true });
    expect(errors).toEqual([]);
    const [header, first, second] = data as [string[], string[], string[]];
    expect(header).toEqual([
      'step_index', 'duration_seconds', 'train_mean', 'train_min', 'train_max', 'train_std', 'num_batches',
      'a,b', `'=HYPERLINK("x")`,
      'samples_per_second', 'tokens_per_second', 'num_tensors', 'num_bytes',
    ]);
    expect(first).toHaveLength(header.length);
    expect(first[header.indexOf('a,b')]).toBe('0.25');
    expect(second[header.indexOf('a,b')]).toBe("'=cmd()");
    expect(second[header.indexOf(`'=HYPERLINK("x")`)]).toBe('');
  });

  it('writes NaN and Infinity as NaN and Infinity, and negative numbers as numbers', () => {
    const csv = stepsCsv([step(0, { trainMean: 'NaN', trainMin: -1.5, trainMax: 'Infinity', trainStd: '-Infinity' })]);
    const [, row] = Papa.parse<string[]>(csv).data as [string[], string[]];
    expect(row.slice(2, 6)).toEqual(['NaN', '-1.5', 'Infinity', '-Infinity']);
  });

  it('leaves a missing channel empty', () => {
    const csv = stepsCsv([{ stepIndex: 3, durationSeconds: null, loss: null, throughput: null, memory: null }]);
    expect(csv.split('\r\n')[1]).toBe('3,,,,,,,,,,');
  });
});
