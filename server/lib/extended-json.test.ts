import { describe, expect, it } from 'vitest';
import { assertJsonShape, decodeNonFinite, encodeNonFinite, JsonDepthError, parseExtendedJson, stringifyExtendedJson } from './extended-json.ts';

describe('extended JSON', () => {
  it('reads the bare NaN and Infinity tokens that Python json.dumps writes', () => {
    const v = parseExtendedJson('{"a": NaN, "b": [Infinity, -Infinity, 1.5], "c": "NaN stays a string"}') as Record<string, unknown>;
    expect(v.a).toBeNaN();
    expect(v.b).toEqual([Infinity, -Infinity, 1.5]);
    expect(v.c).toBe('NaN stays a string');
  });

  it('leaves tokens inside strings alone, escaped quotes included', () => {
    const v = parseExtendedJson('{"msg": "say \\"NaN\\" -Infinity", "x": NaN}') as Record<string, unknown>;
    expect(v.msg).toBe('say "NaN" -Infinity');
    expect(v.x).toBeNaN();
  });

  it('rejects text that is not JSON', () => {
    expect(() => parseExtendedJson('{"a": Nan}')).toThrow(SyntaxError);
    expect(() => parseExtendedJson('{"a": 1')).toThrow(SyntaxError);
  });

  it('round-trips non-finite numbers through text', () => {
    const value = { loss: { train_mean: Number.NaN, train_max: Infinity }, list: [-Infinity, 0] };
    const text = stringifyExtendedJson(value);
    expect(text).toBe('{"loss":{"train_mean":NaN,"train_max":Infinity},"list":[-Infinity,0]}');
    expect(parseExtendedJson(text)).toEqual(value);
  });

  it('encodes non-finite numbers as strings for GraphQL and decodes them back', () => {
    const value = { a: Number.NaN, b: [1, -Infinity] };
    const encoded = encodeNonFinite(value);
    expect(encoded).toEqual({ a: 'NaN', b: [1, '-Infinity'] });
    expect(decodeNonFinite(encoded)).toEqual(value);
    const finite = { a: 1 };
    expect(encodeNonFinite(finite)).toBe(finite);
  });

  it('reads a string that looks like the internal marker as that string, with or without NaN elsewhere', () => {
    const marker = '\u0000nonfinite:NaN';
    for (const text of [JSON.stringify({ s: marker }), `{"s": ${JSON.stringify(marker)}, "n": NaN}`, `[${JSON.stringify(marker)}, Infinity, "\\u0000\\u0000x"]`]) {
      const v = parseExtendedJson(text) as Record<string, unknown> | unknown[];
      const s = Array.isArray(v) ? v[0] : v.s;
      expect(s).toBe(marker);
    }
    expect(parseExtendedJson('["\\u0000\\u0000x", NaN]')).toEqual(['\u0000\u0000x', Number.NaN]);
    // Keys beginning with NUL are keys, not values: left as they are.
    expect(Object.keys(parseExtendedJson('{"\\u0000k": NaN}') as object)).toEqual(['\u0000k']);
  });

  it('writes a string that looks like the marker as a string, next to real non-finite numbers', () => {
    const value = { s: '\u0000nonfinite:NaN', t: '\u0000nonfinite:-Infinity', n: Number.NaN, i: [-Infinity] };
    const text = stringifyExtendedJson(value);
    expect(text).toContain('"n":NaN');
    expect(text).toContain('"i":[-Infinity]');
    expect(parseExtendedJson(text)).toEqual(value);
  });

  it('decodes only the three non-finite names: "constructor" and "toString" stay strings', () => {
    expect(decodeNonFinite({ a: 'constructor', b: 'toString', c: 'NaN', d: ['valueOf', 'Infinity'] })).toEqual({ a: 'constructor', b: 'toString', c: Number.NaN, d: ['valueOf', Infinity] });
  });

  it('refuses values nested deeper than 64 levels and __proto__ keys, naming where, without exhausting the stack', () => {
    const deep = (n: number) => `${'['.repeat(n)}1${']'.repeat(n)}`;
    expect(() => parseExtendedJson(deep(64))).not.toThrow();
    expect(() => parseExtendedJson(deep(65))).toThrow(JsonDepthError);
    expect(() => parseExtendedJson(deep(100_000))).toThrow(/nested deeper than 64 levels/);
    expect(() => parseExtendedJson(`{"a": ${deep(100_000)}, "n": NaN}`)).toThrow(JsonDepthError);
    expect(() => parseExtendedJson('{"a": {"__proto__": {"x": 1}}}')).toThrow(/"__proto__" is not allowed/);
    try {
      assertJsonShape(JSON.parse(`{"profiler": {"a": ${deep(70)}}}`));
    } catch (err) {
      expect((err as JsonDepthError).path).toMatch(/^profiler\.a\.0\.0/);
    }
  });
});
