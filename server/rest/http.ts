import type { IncomingMessage, ServerResponse } from 'node:http';
import { WWW_AUTHENTICATE } from '../auth/access.ts';
import { isDatabaseUnavailable, RETRY_AFTER_SECONDS } from '../db/unavailable.ts';
import { DomainError, ErrorCode, httpStatusOf, isDomainError } from '../errors.ts';
import { JsonDepthError, parseExtendedJson, stringifyExtendedJson, type JsonValue } from '../lib/extended-json.ts';

/**
 * Reads a request body up to `limit` bytes.
 * @throws DomainError PAYLOAD_TOO_LARGE past the limit (by Content-Length or by counting)
 */
export function readBody(req: IncomingMessage, limit: number): Promise<string> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limit) return Promise.reject(tooLarge(limit));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        reject(tooLarge(limit));
        req.removeAllListeners('data');
        req.resume();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

const tooLarge = (limit: number) =>
  new DomainError(ErrorCode.PAYLOAD_TOO_LARGE, `Request body is larger than the limit of ${limit} bytes`, { limit });

/**
 * Parses a JSON body in Python's dialect (bare NaN/Infinity, as `json.dumps` writes them).
 * @throws DomainError BAD_REQUEST naming the syntax problem; VALIDATION_FAILED for a value nested
 *   deeper than 64 levels or holding a `__proto__` key
 */
export function parseJsonBody(text: string): JsonValue {
  if (text.trim() === '') throw new DomainError(ErrorCode.BAD_REQUEST, 'Request body is empty; expected JSON');
  try {
    return parseExtendedJson(text);
  } catch (err) {
    if (err instanceof JsonDepthError)
      throw new DomainError(ErrorCode.VALIDATION, `Request body is not accepted: ${err.detail}`, { path: err.path });
    throw new DomainError(ErrorCode.BAD_REQUEST, `Request body is not valid JSON: ${(err as Error).message}`);
  }
}

/** Writes a JSON response; non-finite numbers are written as Python writes them. */
export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = stringifyExtendedJson(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** FastAPI-style error body `{"detail": ...}` (what the seed's clients read), plus a code. */
export function sendError(res: ServerResponse, err: unknown, onUnexpected: (err: unknown) => void): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  if (isDomainError(err)) {
    const status = httpStatusOf[err.code];
    if (status === 413) res.setHeader('connection', 'close');
    if (status === 401) res.setHeader('www-authenticate', WWW_AUTHENTICATE);
    if (status === 429) res.setHeader('retry-after', String(err.details?.retryAfter ?? 1));
    sendJson(res, status, { detail: err.message, code: err.code, ...(err.details ? { details: err.details } : {}) });
    return;
  }
  if (isDatabaseUnavailable(err)) {
    // Nothing was stored: the client keeps its data and sends it again.
    res.setHeader('retry-after', String(RETRY_AFTER_SECONDS));
    sendJson(res, 503, { detail: 'The database is unavailable right now; try again shortly', code: 'SERVICE_UNAVAILABLE' });
    return;
  }
  onUnexpected(err);
  sendJson(res, 500, { detail: 'Internal Server Error', code: 'INTERNAL' });
}
