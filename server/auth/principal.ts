import { timingSafeEqual, createHash } from 'node:crypto';

/** What a key may do in the projects it opens. */
export const Scope = { read: 'read', write: 'write' } as const;
export type Scope = (typeof Scope)[keyof typeof Scope];

/**
 * Who is calling, decided once per request (per WebSocket connection):
 * - `open`: auth is off, everything is allowed (one person on a loopback address);
 * - `admin`: `OBSERVER_ADMIN_TOKEN`, or a key for every project with scope `write`;
 * - `key`: an API key for one project (or, with scope `read`, for every project);
 * - `anonymous`: auth is required and no credential came;
 * - `invalid`: a credential came and is wrong, malformed or revoked.
 */
export type Principal =
  | { kind: 'open' }
  | { kind: 'admin'; keyId: number | null }
  | { kind: 'key'; keyId: number; projectId: number | null; scope: Scope }
  | { kind: 'anonymous' }
  | { kind: 'invalid'; reason: string };

/** Principals that passed authentication. */
type Authenticated = Extract<Principal, { kind: 'open' | 'admin' | 'key' }>;

export const isAuthenticated = (p: Principal): p is Authenticated => p.kind === 'open' || p.kind === 'admin' || p.kind === 'key';

/**
 * Who did something, as the record names them: `open` (auth off), `admin` (the admin token),
 * `key:<id>` (an API key, an admin key included).
 */
export function actorOf(p: Principal): string {
  if (p.kind === 'key' || (p.kind === 'admin' && p.keyId !== null)) return `key:${p.keyId}`;
  return p.kind;
}

/** The key id requests are counted against (rate and connection limits), if any. */
export const keyIdOf = (p: Principal): number | null => (p.kind === 'key' || p.kind === 'admin' ? p.keyId : null);

/**
 * The secret a request carries: `Authorization: Bearer <secret>`, or HTTP Basic with the secret
 * as the password (what `requests` sends for `http://:SECRET@host/`) or, with no password, as
 * the user name. `undefined` when there is no Authorization header; `null` when there is one
 * this server cannot read.
 */
export function credentialFromHeader(header: string | null | undefined): string | null | undefined {
  if (header === undefined || header === null || header === '') return undefined;
  const m = /^\s*(\S+)\s+(\S+)\s*$/.exec(header);
  if (!m) return null;
  const [, scheme, value] = m as unknown as [string, string, string];
  if (/^bearer$/i.test(scheme)) return value;
  if (!/^basic$/i.test(scheme)) return null;
  const decoded = Buffer.from(value, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return null;
  const user = decodeURIComponent(safeDecode(decoded.slice(0, colon)));
  const password = decodeURIComponent(safeDecode(decoded.slice(colon + 1)));
  return password || user || null;
}

/** Clients percent-encode userinfo inconsistently; a broken escape is kept as typed. */
function safeDecode(s: string): string {
  try {
    decodeURIComponent(s);
    return s;
  } catch {
    return encodeURIComponent(s);
  }
}

/**
 * The secret in a graphql-ws `connection_init` payload: `{ apiKey }` or
 * `{ authorization: 'Bearer …' }` (also `Authorization`). `undefined` when none is given.
 */
export function credentialFromConnectionParams(params: Readonly<Record<string, unknown>> | undefined): string | null | undefined {
  if (!params) return undefined;
  const apiKey = params.apiKey;
  if (apiKey !== undefined && apiKey !== null) return typeof apiKey === 'string' && apiKey !== '' ? apiKey : null;
  const auth = params.authorization ?? params.Authorization;
  if (auth === undefined || auth === null) return undefined;
  return typeof auth === 'string' ? credentialFromHeader(auth) : null;
}

/** Compares two secrets in time that does not depend on where they differ. */
export function sameSecret(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb);
}
