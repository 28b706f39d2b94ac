import { describe, expect, it } from 'vitest';
import { decodeNonFinite, encodeNonFinite, parseExtendedJson, stringifyExtendedJson } from './extended-json.ts';

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
});
