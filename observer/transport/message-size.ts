/** Bytes of `s` in UTF-8, what a WebSocket text frame carries (no copy is made). */
export function utf8Bytes(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) continue;
    // Two bytes up to U+07FF, three up to U+FFFF; a surrogate pair (two units) makes four.
    if (c < 0x800) n += 1;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) (n += 2, i++);
    else n += 2;
  }
  return n;
}

/** graphql-ws gives each operation a v4 UUID: 36 characters. */
const ID = '00000000-0000-4000-8000-000000000000';

/**
 * Bytes of the graphql-ws `subscribe` message that carries this operation, exactly as the
 * client writes it (`JSON.stringify({ id, type, payload })`), which is what the server's
 * `maxPayload` counts.
 */
export function messageBytes(query: string, variables: Record<string, unknown>): number {
  return utf8Bytes(JSON.stringify({ id: ID, type: 'subscribe', payload: { query, variables } }));
}

/** Bytes of one value inside a JSON array (the comma before it not included). */
export const jsonBytes = (v: unknown): number => utf8Bytes(JSON.stringify(v));
