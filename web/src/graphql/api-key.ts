/**
 * The API key the app sends when the server requires one (`AUTH=required`): kept in this
 * browser's localStorage, sent as `Authorization: Bearer` on HTTP and in `connection_init` on
 * the WebSocket. Saving or forgetting it reloads the app, so every page, query and
 * subscription starts again with the new key.
 */
import { stringifyDocument } from 'urql';
import { graphql } from './graphql.ts';

const STORAGE = 'observer.apiKey';

/** A query that needs a key when keys are required (sent by plain fetch: its status is the answer). */
const KEY_CHECK = graphql(`
  query KeyCheck { projects(first: 1) { id } }
`);

/** The stored key, or null. */
export function storedApiKey(): string | null {
  try {
    return localStorage.getItem(STORAGE);
  } catch {
    return null;
  }
}

/** Stores the key and reloads the app with it. */
export function saveApiKey(key: string): void {
  localStorage.setItem(STORAGE, key);
  location.reload();
}

/** Forgets the key and reloads the app without it. */
export function forgetApiKey(): void {
  localStorage.removeItem(STORAGE);
  location.reload();
}

/** Headers carrying a key. */
export const authHeaders = (key: string | null): Record<string, string> => (key ? { authorization: `Bearer ${key}` } : {});

/** What the server says of a key (or of none): `ok`, `required` (401: none or a bad one), or `unreachable`. */
export type KeyCheck = 'ok' | 'required' | 'unreachable';

/** Asks the server whether `key` opens it: a query that needs a key when keys are required. */
export async function checkApiKey(key: string | null): Promise<KeyCheck> {
  try {
    const res = await fetch('/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...authHeaders(key) },
      body: JSON.stringify({ query: stringifyDocument(KEY_CHECK) }),
    });
    return res.status === 401 ? 'required' : 'ok';
  } catch {
    return 'unreachable';
  }
}

/** Event the app listens to: the server refused the key while the app ran (revoked, say). */
export const KEY_REFUSED = 'observer:key-refused';
