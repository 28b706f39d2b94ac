/**
 * Whether an error means the database cannot be reached right now (stopped, restarting,
 * refusing connections, out of connections), as opposed to a bad query: such requests answer
 * 503 with Retry-After, and a client tries again later. Both adapters' shapes are recognised:
 * Prisma's connection error codes, the driver adapter's error kinds, PostgreSQL's SQLSTATE
 * classes, and Node's socket errors anywhere in the cause chain.
 */
export function isDatabaseUnavailable(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e !== null && typeof e === 'object' && depth < 6; depth++) {
    const o = e as { code?: unknown; kind?: unknown; message?: unknown; meta?: { driverAdapterError?: unknown }; cause?: unknown };
    if (typeof o.code === 'string' && (PRISMA_CODES.has(o.code) || NODE_CODES.has(o.code) || isPostgresUnavailable(o.code, o.message))) return true;
    if (typeof o.kind === 'string' && ADAPTER_KINDS.has(o.kind)) return true;
    e = o.meta?.driverAdapterError ?? o.cause;
  }
  return false;
}

/** Prisma: can't reach server, timed out, connection closed, pool timeout. */
const PRISMA_CODES = new Set(['P1001', 'P1002', 'P1008', 'P1017', 'P2024']);
const NODE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);
const ADAPTER_KINDS = new Set(['DatabaseNotReachable', 'DatabaseUnavailable', 'ConnectionClosed', 'SocketTimeout', 'TooManyConnections']);

/** SQLSTATE 08 (connection exception), 53300 (too many connections), 57P01-57P03 (shutting down, cannot connect now), 55000 when the database refuses connections. */
function isPostgresUnavailable(code: string, message: unknown): boolean {
  if (!/^[0-9A-Z]{5}$/.test(code)) return false;
  if (code.startsWith('08') || code === '53300' || /^57P0[123]$/.test(code)) return true;
  return code === '55000' && typeof message === 'string' && message.includes('accepting connections');
}

/** Seconds a client is told to wait before trying again. */
export const RETRY_AFTER_SECONDS = 5;
