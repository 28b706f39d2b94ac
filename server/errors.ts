/** Codes of the errors a client can expect; each maps to one HTTP status. */
export const ErrorCode = {
  BAD_REQUEST: 'BAD_REQUEST',
  VALIDATION: 'VALIDATION_FAILED',
  NOT_FOUND: 'NOT_FOUND',
  CONFLICT: 'CONFLICT',
  SESSION_NOT_RUNNING: 'SESSION_NOT_RUNNING',
  PAYLOAD_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  UNSUPPORTED_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  /** No credential, or one that is wrong, malformed or revoked (auth required). */
  UNAUTHENTICATED: 'UNAUTHENTICATED',
  /** A valid key without the right: a read key writing, a project key creating projects or keys. */
  FORBIDDEN: 'FORBIDDEN',
  /** A key over its request rate; `details.retryAfter` says how many seconds to wait. */
  RATE_LIMITED: 'RATE_LIMITED',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** HTTP status for each code, used by the REST adapter. */
export const httpStatusOf: Record<ErrorCode, number> = {
  BAD_REQUEST: 400,
  VALIDATION_FAILED: 422,
  NOT_FOUND: 404,
  CONFLICT: 409,
  SESSION_NOT_RUNNING: 400,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  RATE_LIMITED: 429,
};

const BRAND = Symbol.for('observer.DomainError');

/** An expected failure: its message is safe to show to the client. */
export class DomainError extends Error {
  readonly [BRAND] = true;

  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'DomainError';
  }
}

/**
 * Whether a value is a DomainError. A brand, not `instanceof`, so it holds when a module is
 * loaded twice (test runners do that).
 */
export const isDomainError = (e: unknown): e is DomainError => typeof e === 'object' && e !== null && BRAND in e;

export const notFound = (what: string, id: number | string): DomainError =>
  new DomainError(ErrorCode.NOT_FOUND, `${what} ${id} not found`, { [what.toLowerCase()]: id });

export const validationError = (message: string, details?: Record<string, unknown>): DomainError =>
  new DomainError(ErrorCode.VALIDATION, message, details);
