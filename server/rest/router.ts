import type { IncomingMessage, ServerResponse } from 'node:http';
import { unauthenticated, type AccessGuard, type Rule } from '../auth/access.ts';
import type { Principal } from '../auth/principal.ts';
import { DomainError, ErrorCode } from '../errors.ts';
import type { JsonValue } from '../lib/extended-json.ts';
import { MAX_INT32 } from '../lib/validate.ts';
import { parseJsonBody, readBody, sendError, sendJson } from './http.ts';

/** What a handler gets: typed path parameters (integers), the query and the parsed body. */
interface RestRequest {
  params: Record<string, number>;
  query: URLSearchParams;
  body: JsonValue | undefined;
  /** Who is calling (authenticated: the guard let the request through). */
  principal: Principal;
}

/** A handler returns the JSON body (status 200) or `{ status, body }`. */
export type Handler = (req: RestRequest) => Promise<unknown>;

export interface Route {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** e.g. `/sessions/:session_id/step`; every `:param` is an integer id. */
  path: string;
  handler: Handler;
}

interface Compiled extends Route {
  regex: RegExp;
  names: string[];
  rule: Rule;
}

/** Marks a response with a status other than 200. */
class Status {
  constructor(
    readonly status: number,
    readonly body: unknown,
  ) {}
}

/** The key of a route in the access rules (`server/auth/rules.ts`): `METHOD path`. */
export const routeKey = (r: Pick<Route, 'method' | 'path'>): string => `${r.method} ${r.path}`;

/**
 * A small router for the legacy REST contract; answers null when no path matches. Every route
 * needs an access rule in `rules` (it refuses to start otherwise), which `guard` applies.
 */
export function createRouter(
  routes: Route[],
  opts: { maxBodyBytes: number; onUnexpected: (err: unknown) => void; guard: AccessGuard; rules: Readonly<Record<string, Rule>> },
) {
  const compiled: Compiled[] = routes.map((r) => {
    const rule = opts.rules[routeKey(r)];
    if (!rule) throw new Error(`REST route ${routeKey(r)} has no access rule in server/auth/rules.ts`);
    const names: string[] = [];
    const pattern = r.path.replace(/:([a-z_]+)/g, (_, n: string) => {
      names.push(n);
      return '([^/]+)';
    });
    return { ...r, names, rule, regex: new RegExp(`^${pattern}/?$`) };
  });

  /** Handles the request if a route's path matches; returns false otherwise. */
  return async function handle(req: IncomingMessage, res: ServerResponse, url: URL, principal: Principal): Promise<boolean> {
    const matches = compiled.filter((r) => r.regex.test(url.pathname));
    if (matches.length === 0) return false;
    const route = matches.find((r) => r.method === req.method);
    try {
      if (!route) {
        res.setHeader('allow', matches.map((r) => r.method).join(', '));
        sendJson(res, 405, { detail: 'Method Not Allowed', code: 'METHOD_NOT_ALLOWED' });
        return true;
      }
      // Strangers learn nothing, not even whether their ids parse.
      if (principal.kind === 'anonymous') throw unauthenticated();
      if (principal.kind === 'invalid') throw unauthenticated(principal.reason);
      const m = route.regex.exec(url.pathname)!;
      const params: Record<string, number> = {};
      route.names.forEach((name, i) => {
        params[name] = toInt(decodePathSegment(m[i + 1]!, name), `Path parameter ${name}`);
      });
      // The guard sees (and may narrow) the query's arguments too; the path's parameters win over the query's.
      const args: Record<string, unknown> = { ...Object.fromEntries(url.searchParams), ...params };
      const out = await opts.guard.run(principal, route.rule, args, async (narrowed) => {
        const body = req.method === 'GET' ? undefined : parseJsonBody(await readBody(req, opts.maxBodyBytes));
        const query = new URLSearchParams(url.searchParams);
        for (const [k, v] of Object.entries(narrowed)) if (!(k in params) && v !== undefined && v !== null) query.set(k, String(v));
        return route.handler({ params, query, body, principal });
      });
      if (out instanceof Status) sendJson(res, out.status, out.body);
      else sendJson(res, 200, out);
    } catch (err) {
      sendError(res, err, opts.onUnexpected);
    }
    return true;
  };
}


/** Decodes a percent-encoded path segment. @throws DomainError BAD_REQUEST for a broken encoding */
function decodePathSegment(raw: string, name: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new DomainError(ErrorCode.BAD_REQUEST, `Path parameter ${name} is not valid percent-encoding: "${raw.slice(0, 100)}"`);
  }
}

/** A decimal integer in the 32-bit range. @throws DomainError VALIDATION_FAILED naming `what` */
function toInt(raw: string, what: string): number {
  const n = Number(raw);
  // The range every API can carry (GraphQL's Int, the database's ids).
  if (!/^-?\d{1,10}$/.test(raw) || n < -MAX_INT32 - 1 || n > MAX_INT32)
    throw new DomainError(ErrorCode.VALIDATION, `${what} must be an integer between ${-MAX_INT32 - 1} and ${MAX_INT32}, got "${raw.slice(0, 100)}"`);
  return n;
}

/** Reads an integer query parameter (32-bit). @throws DomainError VALIDATION_FAILED */
export function intQuery(q: URLSearchParams, name: string): number | undefined {
  const raw = q.get(name);
  if (raw === null || raw === '') return undefined;
  return toInt(raw, `Query parameter ${name}`);
}
