import type { IncomingMessage, ServerResponse } from 'node:http';
import { DomainError, ErrorCode } from '../errors.ts';
import type { JsonValue } from '../lib/extended-json.ts';
import { parseJsonBody, readBody, sendError, sendJson } from './http.ts';

/** What a handler gets: typed path parameters (integers), the query and the parsed body. */
export interface RestRequest {
  params: Record<string, number>;
  query: URLSearchParams;
  body: JsonValue | undefined;
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
}

/** Marks a response with a status other than 200. */
export class Status {
  constructor(
    readonly status: number,
    readonly body: unknown,
  ) {}
}

/** A small router for the legacy REST contract; answers null when no path matches. */
export function createRouter(routes: Route[], opts: { maxBodyBytes: number; onUnexpected: (err: unknown) => void }) {
  const compiled: Compiled[] = routes.map((r) => {
    const names: string[] = [];
    const pattern = r.path.replace(/:([a-z_]+)/g, (_, n: string) => {
      names.push(n);
      return '([^/]+)';
    });
    return { ...r, names, regex: new RegExp(`^${pattern}/?$`) };
  });

  /** Handles the request if a route's path matches; returns false otherwise. */
  return async function handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> {
    const matches = compiled.filter((r) => r.regex.test(url.pathname));
    if (matches.length === 0) return false;
    const route = matches.find((r) => r.method === req.method);
    try {
      if (!route) {
        res.setHeader('allow', matches.map((r) => r.method).join(', '));
        sendJson(res, 405, { detail: 'Method Not Allowed', code: 'METHOD_NOT_ALLOWED' });
        return true;
      }
      const m = route.regex.exec(url.pathname)!;
      const params: Record<string, number> = {};
      route.names.forEach((name, i) => {
        const raw = decodeURIComponent(m[i + 1]!);
        const n = Number(raw);
        if (!/^-?\d+$/.test(raw) || !Number.isSafeInteger(n))
          throw new DomainError(ErrorCode.VALIDATION, `Path parameter ${name} must be an integer, got "${raw}"`);
        params[name] = n;
      });
      const body = req.method === 'GET' ? undefined : parseJsonBody(await readBody(req, opts.maxBodyBytes));
      const out = await route.handler({ params, query: url.searchParams, body });
      if (out instanceof Status) sendJson(res, out.status, out.body);
      else sendJson(res, 200, out);
    } catch (err) {
      sendError(res, err, opts.onUnexpected);
    }
    return true;
  };
}

/** Reads an integer query parameter. @throws DomainError VALIDATION_FAILED */
export function intQuery(q: URLSearchParams, name: string): number | undefined {
  const raw = q.get(name);
  if (raw === null || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isSafeInteger(n)) throw new DomainError(ErrorCode.VALIDATION, `Query parameter ${name} must be an integer, got "${raw}"`);
  return n;
}
