/**
 * JSON in Python's dialect: bare `NaN`, `Infinity` and `-Infinity` tokens stand for the
 * non-finite floats that `json.dumps` writes by default. Observer accepts them from clients
 * and stores telemetry this way, so a NaN loss stays NaN from the client to the diagnostics.
 */

/** A JSON value whose numbers may be non-finite. */
export type JsonValue = number | string | boolean | null | JsonValue[] | { [key: string]: JsonValue };
/** A JSON object whose numbers may be non-finite. */
export type JsonObject = { [key: string]: JsonValue };

const SENTINEL = '\u0000nonfinite:';
const NON_FINITE: Record<string, number> = { NaN: Number.NaN, Infinity: Infinity, '-Infinity': -Infinity };
/** How a string value that begins with NUL is written while parsing: its NUL doubled, so no client string reads as a sentinel. */
const NUL_ESCAPED = '\u0000\u0000';

function reviveSentinel(_key: string, value: unknown): unknown {
  if (typeof value !== 'string' || value.charCodeAt(0) !== 0) return value;
  if (value.startsWith(NUL_ESCAPED)) return value.slice(1);
  if (value.startsWith(SENTINEL)) return NON_FINITE[value.slice(SENTINEL.length)];
  return value;
}

/** The index of the quote that closes the JSON string opening at `open` (escapes skipped). */
function closingQuote(text: string, open: number): number {
  let i = open + 1;
  for (; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 92 /* \ */) i++;
    else if (c === 34 /* " */) break;
  }
  return i;
}

/** Whether the string token that closes at `close` is an object key: a colon follows it. */
function isKey(text: string, close: number): boolean {
  for (let j = close + 1; j < text.length; j++) {
    const c = text.charCodeAt(j);
    if (c === 58 /* : */) return true;
    if (c !== 32 && c !== 9 && c !== 10 && c !== 13) return false;
  }
  return false;
}

/**
 * Rewrites bare non-finite tokens (outside strings) into sentinel strings, so that
 * `JSON.parse` can read the text; other text is copied unchanged, except that a string
 * value beginning with NUL (`\u0000`, the only way JSON text can begin a string with NUL)
 * gets its NUL doubled, so that a client's string can never be read as a sentinel.
 */
function quoteNonFiniteTokens(text: string): string {
  let out = '';
  let last = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 34 /* " */) {
      const open = i;
      i = closingQuote(text, i);
      if (text.startsWith('\\u0000', open + 1) && !isKey(text, i)) {
        out += text.slice(last, open + 1) + '\\u0000';
        last = open + 1;
      }
      continue;
    }
    let token: string | undefined;
    if (c === 78 /* N */ && text.startsWith('NaN', i)) token = 'NaN';
    else if (c === 73 /* I */ && text.startsWith('Infinity', i)) token = 'Infinity';
    else if (c === 45 /* - */ && text.startsWith('-Infinity', i)) token = '-Infinity';
    if (token) {
      out += text.slice(last, i) + JSON.stringify(SENTINEL + token);
      i += token.length - 1;
      last = i + 1;
    }
  }
  return last === 0 ? text : out + text.slice(last);
}

/**
 * Parses JSON that may contain bare `NaN`, `Infinity` and `-Infinity`. Strings are read as
 * the strings they are, whatever they contain. `maxDepth: Infinity` trusts the text (what the
 * server stored itself, after checking it on the way in) and skips the shape checks.
 * @throws SyntaxError for text that is not JSON in that dialect
 * @throws JsonDepthError for values nested deeper than {@link MAX_JSON_DEPTH}
 */
export function parseExtendedJson(text: string, maxDepth = MAX_JSON_DEPTH): JsonValue {
  const trusted = maxDepth === Infinity;
  if (!text.includes('NaN') && !text.includes('Infinity')) {
    const value = JSON.parse(text) as JsonValue;
    if (!trusted) assertJsonShape(value, maxDepth);
    return value;
  }
  if (trusted) return JSON.parse(quoteNonFiniteTokens(text), reviveSentinel) as JsonValue;
  // The reviver recurses: check the nesting on the text before parsing (deep text would overflow the stack).
  assertTextDepth(text, maxDepth);
  const value = JSON.parse(quoteNonFiniteTokens(text), reviveSentinel) as JsonValue;
  assertJsonShape(value, maxDepth);
  return value;
}

/** How deep a JSON value may nest (objects and arrays), everywhere values are accepted. */
export const MAX_JSON_DEPTH = 64;

/** A JSON value nested too deeply, or holding a key that JavaScript objects cannot keep. */
export class JsonDepthError extends Error {
  constructor(
    message: string,
    /** Where, as a dotted path of keys and indices (empty at the top). */
    readonly path: string,
  ) {
    super(message);
    this.name = 'JsonDepthError';
  }

  /** Where and what, for the client: e.g. `profiler.a.a: nested deeper than 64 levels`. */
  get detail(): string {
    return this.path ? `${this.path}: ${this.message}` : this.message;
  }
}

const FORBIDDEN_KEY = '__proto__';

/**
 * Checks a parsed JSON value: at most `maxDepth` levels of objects and arrays, and no
 * `__proto__` key (an own property that most JavaScript code, ours included, would turn into
 * the object's prototype, losing the value). Recursion stops at the limit, so a value nested
 * 100,000 deep is refused without exhausting the stack.
 * @throws JsonDepthError naming the path where it went wrong
 */
export function assertJsonShape(value: unknown, maxDepth = MAX_JSON_DEPTH): void {
  // Every request body passes here: walk without building paths, and find the path only on failure.
  const fine = (v: unknown, depth: number): boolean => {
    if (v === null || typeof v !== 'object') return true;
    if (depth >= maxDepth) return false;
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) if (!fine(v[i], depth + 1)) return false;
      return true;
    }
    for (const key in v) {
      if (key === FORBIDDEN_KEY || !fine((v as Record<string, unknown>)[key], depth + 1)) return false;
    }
    return true;
  };
  if (fine(value, 0)) return;
  const explain = (v: unknown, depth: number, path: string[]): void => {
    if (v === null || typeof v !== 'object') return;
    if (depth >= maxDepth) throw new JsonDepthError(`nested deeper than ${maxDepth} levels`, describePath(path));
    const entries: [string, unknown][] = Array.isArray(v) ? v.map((x, i) => [String(i), x]) : Object.keys(v).map((k) => [k, (v as Record<string, unknown>)[k]]);
    for (const [key, x] of entries) {
      if (!Array.isArray(v) && key === FORBIDDEN_KEY) throw new JsonDepthError('the key "__proto__" is not allowed', describePath([...path, key]));
      explain(x, depth + 1, path.length < 8 ? [...path, key] : path);
    }
  };
  explain(value, 0, []);
}

const describePath = (path: string[]) => (path.length >= 8 ? `${path.join('.')}...` : path.join('.'));

/** The nesting of objects and arrays in JSON text, checked without parsing it. */
function assertTextDepth(text: string, maxDepth: number): void {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 34 /* " */) i = closingQuote(text, i);
    else if (c === 123 || c === 91) {
      if (++depth > maxDepth) throw new JsonDepthError(`nested deeper than ${maxDepth} levels`, '');
    } else if (c === 125 || c === 93) depth--;
  }
}

/** True when a non-finite number occurs anywhere in the value. */
function hasNonFinite(value: unknown): boolean {
  if (typeof value === 'number') return !Number.isFinite(value);
  if (value === null || typeof value !== 'object') return false;
  if (Array.isArray(value)) {
    for (const v of value) if (hasNonFinite(v)) return true;
    return false;
  }
  for (const key in value) if (hasNonFinite((value as Record<string, unknown>)[key])) return true;
  return false;
}

/**
 * A marker for non-finite numbers that occurs nowhere in `plain` (the value written without
 * them): JSON.stringify writes a string the same way every time, so no string of the value
 * can contain it, and replacing it afterwards touches only the numbers.
 */
function markerAbsentFrom(plain: string): string {
  let marker = 'nonfinite:';
  while (plain.includes(JSON.stringify(SENTINEL_PREFIX + marker).slice(1, -1))) marker = `~${marker}`;
  return SENTINEL_PREFIX + marker;
}
const SENTINEL_PREFIX = '\u0000';

/** Writes JSON with bare `NaN`/`Infinity`/`-Infinity` for non-finite numbers, as Python does. */
export function stringifyExtendedJson(value: unknown): string {
  const plain = JSON.stringify(value);
  // JSON.stringify writes NaN as null: text without "null" had no non-finite number (the common case).
  if (plain === undefined || !plain.includes('null') || !hasNonFinite(value)) return plain;
  const marker = markerAbsentFrom(plain);
  const written = JSON.stringify(value, (_key, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? marker + String(v) : v));
  const quoted = JSON.stringify(marker).slice(1, -1).replace(/[\\^$.*+?()[\]{}|]/g, '\\$&');
  return written.replace(new RegExp(`"${quoted}(NaN|Infinity|-Infinity)"`, 'g'), '$1');
}

/**
 * Returns the value with each non-finite number replaced by the string `"NaN"`,
 * `"Infinity"` or `"-Infinity"`: the encoding GraphQL responses use, since standard JSON
 * would turn them into `null`. Values without non-finite numbers are returned as they are.
 */
export function encodeNonFinite(value: unknown): unknown {
  if (typeof value === 'number') return Number.isFinite(value) ? value : String(value);
  if (!hasNonFinite(value)) return value;
  if (Array.isArray(value)) return value.map(encodeNonFinite);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) out[k] = encodeNonFinite(v);
  return out;
}

/** The inverse of {@link encodeNonFinite}: the strings `"NaN"`, `"Infinity"`, `"-Infinity"` become numbers. */
export function decodeNonFinite(value: unknown): unknown {
  if (typeof value === 'string') return Object.hasOwn(NON_FINITE, value) ? NON_FINITE[value] : value;
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map(decodeNonFinite);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) out[k] = decodeNonFinite(v);
  return out;
}
