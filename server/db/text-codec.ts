/**
 * PostgreSQL's text type cannot hold NUL (U+0000), which JSON strings (and so clients) can
 * send. On PostgreSQL every string is stored with a reversible escape: NUL as U+FFFF "0" and
 * U+FFFF itself as U+FFFF "1" (U+FFFF is a noncharacter, so text without NUL or U+FFFF, i.e.
 * nearly all of it, is stored unchanged and compares, sorts and filters as it is).
 * JSON text columns never hold a raw NUL (JSON writes it as \u0000) and pass through as well.
 */

const NEEDS_ESCAPE = /[\u0000\uFFFF]/;

/** A string as PostgreSQL stores it. */
export function encodeText(s: string): string {
  return NEEDS_ESCAPE.test(s) ? s.replace(/[\u0000\uFFFF]/g, (c) => (c === '\u0000' ? '\uFFFF0' : '\uFFFF1')) : s;
}

/** A stored string as the client sent it. */
export function decodeText(s: string): string {
  return s.includes('\uFFFF') ? s.replace(/\uFFFF([01])/g, (_, d: string) => (d === '0' ? '\u0000' : '\uFFFF')) : s;
}

const isPlain = (v: object) => {
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
};

/** Applies `f` to every string in plain objects and arrays (query arguments, result rows); other values stay. */
export function mapStrings<T>(value: T, f: (s: string) => string): T {
  if (typeof value === 'string') return f(value) as T;
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) {
    let out: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const v = mapStrings(value[i], f);
      if (v !== value[i]) (out ??= value.slice())[i] = v;
    }
    return (out ?? value) as T;
  }
  if (!isPlain(value)) return value;
  let out: Record<string, unknown> | undefined;
  for (const key of Object.keys(value)) {
    const v0 = (value as Record<string, unknown>)[key];
    const v = mapStrings(v0, f);
    if (v !== v0) (out ??= { ...(value as Record<string, unknown>) })[key] = v;
  }
  return (out ?? value) as T;
}
