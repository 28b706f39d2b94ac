import { describe, expect, it } from 'vitest';
import { filterList, MAX_FILTER_VALUES, PAGE, pageSize } from './pagination.ts';

describe('pageSize', () => {
  it('takes the default when none is asked, and any size from 1 to the maximum', () => {
    expect(pageSize(undefined, PAGE.steps)).toBe(PAGE.steps.default);
    expect(pageSize(null, PAGE.steps)).toBe(PAGE.steps.default);
    expect(pageSize(1, PAGE.steps)).toBe(1);
    expect(pageSize(PAGE.steps.max, PAGE.steps)).toBe(PAGE.steps.max);
  });

  it('refuses 0, negatives, fractions and sizes over the maximum, naming the bounds', () => {
    for (const bad of [0, -1, 1.5, PAGE.steps.max + 1, Number.NaN]) expect(() => pageSize(bad, PAGE.steps, 'limit'), String(bad)).toThrow(/limit must be an integer from 1 to 10000/);
  });
});

describe('filterList', () => {
  it('keeps distinct values and treats an empty list as no filter', () => {
    expect(filterList(['ERROR', 'ERROR', 'WARNING'], 'level')).toEqual(['ERROR', 'WARNING']);
    expect(filterList([], 'level')).toBeNull();
    expect(filterList(undefined, 'level')).toBeNull();
  });

  it('refuses too many values or a value too long', () => {
    expect(() => filterList(Array.from({ length: MAX_FILTER_VALUES + 1 }, (_, i) => `L${i}`), 'level')).toThrow(/at most 20 values/);
    expect(() => filterList(['x'.repeat(40)], 'level', 16)).toThrow(/at most 16 characters/);
  });
});
