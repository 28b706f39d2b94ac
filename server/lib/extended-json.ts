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

function reviveSentinel(_key: string, value: unknown): unknown {
  if (typeof value === 'string' && value.startsWith(SENTINEL)) return NON_FINITE[value.slice(SENTINEL.length)];
  return value;
}

/**
 * Rewrites bare non-finite tokens (outside strings) into sentinel strings, so that
 * `JSON.parse` can read the text; other text is copied unchanged.
 */
function quoteNonFiniteTokens(text: string): string {
  let out = '';
  let last = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92 /* \ */) i++;
      else if (c === 34 /* " */) inString = false;
      continue;
    }
    if (c === 34) {
      inString = true;
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
 * Parses JSON that may contain bare `NaN`, `Infinity` and `-Infinity`.
 * @throws SyntaxError for text that is not JSON in that dialect
 */
export function parseExtendedJson(text: string): JsonValue {
  if (!text.includes('NaN') && !text.includes('Infinity')) return JSON.parse(text) as JsonValue;
  return JSON.parse(quoteNonFiniteTokens(text), reviveSentinel) as JsonValue;
}

/** True when a non-finite number occurs anywhere in the value. */
export function hasNonFinite(value: unknown): boolean {
  if (typeof value === 'number') return !Number.isFinite(value);
  if (value === null || typeof value !== 'object') return false;
  if (Array.isArray(value)) {
    for (const v of value) if (hasNonFinite(v)) return true;
    return false;
  }
  for (const key in value) if (hasNonFinite((value as Record<string, unknown>)[key])) return true;
  return false;
}

function nonFiniteReplacer(_key: string, value: unknown): unknown {
  return typeof value === 'number' && !Number.isFinite(value) ? SENTINEL + String(value) : value;
}

const SENTINEL_IN_OUTPUT = /"\\u0000nonfinite:(NaN|Infinity|-Infinity)"/g;

/** Writes JSON with bare `NaN`/`Infinity`/`-Infinity` for non-finite numbers, as Python does. */
export function stringifyExtendedJson(value: unknown): string {
  const plain = JSON.stringify(value);
  // JSON.stringify writes NaN as null: text without "null" had no non-finite number (the common case).
  if (plain === undefined || !plain.includes('null') || !hasNonFinite(value)) return plain;
  return JSON.stringify(value, nonFiniteReplacer).replace(SENTINEL_IN_OUTPUT, '$1');
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
  if (typeof value === 'string') return value in NON_FINITE ? NON_FINITE[value] : value;
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map(decodeNonFinite);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) out[k] = decodeNonFinite(v);
  return out;
}
