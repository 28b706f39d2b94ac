import fc from 'fast-check';

/** A JSON value whose numbers may be non-finite (what Python's json.dumps can write). */
export type Json = number | string | boolean | null | Json[] | { [key: string]: Json };

/** Integers at and around every boundary an API could trip on. */
export const edgeInteger: fc.Arbitrary<number> = fc.oneof(
  fc.constantFrom(0, -1, 1, 2 ** 31 - 1, 2 ** 31, -(2 ** 31), -(2 ** 31) - 1, 2 ** 32, 2 ** 53, -(2 ** 53), Number.MAX_SAFE_INTEGER + 2, 1e300, -1e300),
  fc.integer({ min: -1000, max: 100_000 }),
);

/** Numbers of every kind: edges, fractions, non-finite, negative zero. */
export const edgeNumber: fc.Arbitrary<number> = fc.oneof(
  edgeInteger,
  fc.constantFrom(Number.NaN, Infinity, -Infinity, -0, 0.5, 1e-320, Number.MAX_VALUE, -Number.MAX_VALUE, Number.MIN_VALUE),
  fc.double(),
);

/** Strings a careless or hostile client sends: markers, escapes, odd Unicode, long ones. */
export const edgeString: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    '',
    ' ',
    'NaN',
    'Infinity',
    '-Infinity',
    '\u0000nonfinite:NaN',
    '\u0000nonfinite:-Infinity',
    '\u0000\u0000nonfinite:NaN',
    '\u0000',
    'a,b',
    '=cmd()',
    '"quoted"',
    '\\',
    '\ud800',
    'x\udfff',
    '😀',
    '\u202e\u200b',
    '../../etc/passwd',
    "'; DROP TABLE \"TrainStep\"; --",
    '__proto__',
    'constructor',
    '%ZZ',
    '\uFFFF',
    '\uFFFF0',
    'a\uFFFF1\u0000',
  ),
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.nat({ max: 70_000 }).map((n) => 'x'.repeat(n)),
);

/** Object keys, the troublesome ones included. */
export const edgeKey: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('', 'constructor', 'toString', 'hasOwnProperty', 'prototype', '__proto__', 'NaN', '\u0000', '\uFFFF0', 'a.b', 'val', 'loss', 'step_index', 'train_mean'),
  fc.string({ maxLength: 12 }),
);

/** Any JSON value, leaves drawn from the edge values, at most a few levels deep. */
export const edgeJson: fc.Arbitrary<Json> = fc.letrec<{ value: Json }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    edgeNumber,
    edgeString,
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('value'), { maxLength: 5 }),
    fc.dictionary(edgeKey, tie('value'), { maxKeys: 5 }),
  ),
})).value;

/** A JSON object of edge values. */
export const edgeObject: fc.Arbitrary<{ [key: string]: Json }> = fc.dictionary(edgeKey, edgeJson, { maxKeys: 6 });

/** `{"a": {"a": ... 1}}` nested `depth` levels. */
export function deepObject(depth: number): Json {
  let v: Json = 1;
  for (let i = 0; i < depth; i++) v = i % 2 ? [v] : { a: v };
  return v;
}

/** Depths around the limit of 64 and far beyond it. */
export const deepDepth = fc.oneof(fc.integer({ min: 60, max: 70 }), fc.constantFrom(500, 5000, 20_000));

/**
 * Writes a value as Python's json.dumps does (bare NaN, Infinity, -Infinity). Written here
 * rather than taken from the server, so the server's own writer is not its own oracle.
 */
export function pyDumps(v: Json | undefined): string {
  if (v === undefined) return 'null';
  if (typeof v === 'number') return Number.isNaN(v) ? 'NaN' : v === Infinity ? 'Infinity' : v === -Infinity ? '-Infinity' : Object.is(v, -0) ? '-0.0' : JSON.stringify(v);
  if (v === null || typeof v !== 'object') return JSON.stringify(v);
  if (Array.isArray(v)) {
    // Deep values are written iteratively by the caller's string building; recursion is fine to a few thousand.
    return `[${v.map(pyDumps).join(', ')}]`;
  }
  return `{${Object.keys(v)
    .map((k) => `${JSON.stringify(k)}: ${pyDumps(v[k])}`)
    .join(', ')}}`;
}

/** `depth` levels of nesting as text, built without recursion (for depths of tens of thousands). */
export function deepText(depth: number): string {
  let open = '';
  let close = '';
  for (let i = 0; i < depth; i++) {
    if (i % 2) {
      open += '[';
      close = `]${close}`;
    } else {
      open += '{"a": ';
      close = `}${close}`;
    }
  }
  return `${open}1${close}`;
}
