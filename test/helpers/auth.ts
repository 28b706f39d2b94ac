import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { defer } from './server.ts';

/** The admin token test servers with auth start with. */
export const ADMIN_TOKEN = 'test-admin-token-0123456789';

/** Headers carrying `key` as a Bearer token (none without a key). */
export const bearer = (key: string | undefined): Record<string, string> => ({
  'content-type': 'application/json',
  ...(key === undefined ? {} : { authorization: `Bearer ${key}` }),
});

export interface GqlAnswer<T = Record<string, unknown>> {
  status: number;
  headers: Headers;
  data?: T | null;
  errors?: { message: string; extensions?: { code?: string } }[];
}

/** A GraphQL request over HTTP with a key. */
export async function gqlAs<T = Record<string, unknown>>(base: string, key: string | undefined, query: string, variables: Record<string, unknown> = {}): Promise<GqlAnswer<T>> {
  const res = await fetch(`${base}/graphql`, { method: 'POST', headers: bearer(key), body: JSON.stringify({ query, variables }) });
  return { status: res.status, headers: res.headers, ...((await res.json()) as Omit<GqlAnswer<T>, 'status' | 'headers'>) };
}

/** An API key made by the admin over GraphQL: its secret and id. */
export async function createKey(base: string, projectId: number | null, scope: 'read' | 'write'): Promise<{ id: number; secret: string }> {
  const r = await gqlAs<{ createApiKey: { secret: string; key: { id: number } } }>(
    base,
    ADMIN_TOKEN,
    'mutation($p: Int, $s: ApiKeyScope!) { createApiKey(projectId: $p, scope: $s) { secret key { id } } }',
    { p: projectId, s: scope },
  );
  if (!r.data) throw new Error(`createApiKey failed: ${JSON.stringify(r.errors)}`);
  return { id: r.data.createApiKey.key.id, secret: r.data.createApiKey.secret };
}

export async function revokeKey(base: string, id: number): Promise<void> {
  const r = await gqlAs(base, ADMIN_TOKEN, 'mutation($id: Int!) { revokeApiKey(id: $id) { id revokedAt } }', { id });
  if (r.errors) throw new Error(`revokeApiKey failed: ${JSON.stringify(r.errors)}`);
}

/** How a subscription over graphql-ws ended up: an event, GraphQL errors, or the socket closed. */
export type WsOutcome = { kind: 'data'; data: Record<string, unknown> } | { kind: 'errors'; codes: (string | undefined)[] } | { kind: 'closed'; code: number };

/**
 * Subscribes over graphql-ws with `connectionParams`, runs `trigger` once subscribed (it may
 * wait for the server to register the subscription), and resolves with the first outcome.
 */
export function subscribeOnce(
  wsUrl: string,
  connectionParams: Record<string, unknown> | undefined,
  query: string,
  variables: Record<string, unknown>,
  accept: (data: Record<string, unknown>) => boolean = () => true,
  trigger: () => Promise<void> = async () => {},
  timeoutMs = 5000,
): Promise<WsOutcome> {
  const client = createClient({ url: wsUrl, webSocketImpl: WebSocket, connectionParams, retryAttempts: 0, lazy: true });
  defer(() => client.dispose());
  return new Promise<WsOutcome>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no outcome for ${query} within ${timeoutMs} ms`)), timeoutMs);
    const done = (o: WsOutcome) => {
      clearTimeout(timer);
      unsubscribe();
      resolve(o);
    };
    client.on('closed', (e) => done({ kind: 'closed', code: (e as { code: number }).code }));
    client.on('connected', () => void trigger().catch(reject));
    const unsubscribe = client.subscribe(
      { query, variables },
      {
        next: (r) => {
          if (r.errors) done({ kind: 'errors', codes: r.errors.map((e) => e.extensions?.code as string | undefined) });
          else if (r.data && accept(r.data)) done({ kind: 'data', data: r.data });
        },
        error: (e) => {
          if (Array.isArray(e)) done({ kind: 'errors', codes: e.map((x: { extensions?: { code?: string } }) => x.extensions?.code) });
          else if (e && typeof e === 'object' && 'code' in e) done({ kind: 'closed', code: (e as { code: number }).code });
          else reject(e);
        },
        complete: () => {},
      },
    );
  });
}
