import { describe, expect, it } from 'vitest';
import { decodeText, encodeText, mapStrings } from './text-codec.ts';

describe('text codec for PostgreSQL', () => {
  it('round-trips NUL and U+FFFF, and leaves other text as it is', () => {
    for (const s of ['', 'plain', '\u0000', '\u0000nonfinite:NaN', '\uFFFF', '\uFFFF0', 'a\u0000\uFFFF1b', '😀\u0000']) {
      expect(encodeText(s)).not.toContain('\u0000');
      expect(decodeText(encodeText(s))).toBe(s);
    }
    expect(encodeText('plain text')).toBe('plain text');
  });

  it('maps the strings of arguments and rows, keeping dates and the objects it did not change', () => {
    const at = new Date(0);
    const args = { where: { name: { in: ['a\u0000', 'b'] } }, data: { at, n: 1 }, orderBy: { id: 'desc' } };
    const out = mapStrings(args, encodeText);
    expect(out.where.name.in).toEqual(['a\uFFFF0', 'b']);
    expect(out.data).toBe(args.data);
    expect(out.orderBy).toBe(args.orderBy);
  });
});
