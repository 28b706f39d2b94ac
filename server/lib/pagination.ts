import { validationError } from '../errors.ts';

/** The bounds of one paginated list: the page size when none is asked, and the largest allowed. */
interface PageBounds {
  default: number;
  max: number;
}

/**
 * Page sizes of every list the API returns, REST and GraphQL alike (documented in the README
 * and the schema). A size below 1 or above the maximum is refused, never silently changed.
 */
export const PAGE = {
  projects: { default: 1000, max: 1000 },
  sessions: { default: 50, max: 500 },
  projectSessions: { default: 1000, max: 1000 },
  steps: { default: 1000, max: 10_000 },
  series: { default: 100_000, max: 100_000 },
  logs: { default: 500, max: 10_000 },
  diagnostics: { default: 50, max: 1000 },
  remedies: { default: 100, max: 1000 },
} as const satisfies Record<string, PageBounds>;

/**
 * The page size to read: `requested` when given (it must be 1..max), else the default.
 * @throws DomainError VALIDATION_FAILED naming the argument and its bounds
 */
export function pageSize(requested: number | null | undefined, bounds: PageBounds, name = 'page size (first / limit)'): number {
  if (requested === null || requested === undefined) return bounds.default;
  if (!Number.isInteger(requested) || requested < 1 || requested > bounds.max)
    throw validationError(`${name} must be an integer from 1 to ${bounds.max}, got ${requested}`, { argument: name, value: requested, max: bounds.max });
  return requested;
}

/** At most this many values in a list-valued filter (e.g. log levels). */
export const MAX_FILTER_VALUES = 20;

/**
 * A list-valued filter, bounded in count and in each value's length.
 * @throws DomainError VALIDATION_FAILED
 */
export function filterList(values: readonly string[] | null | undefined, name: string, maxLength = 32): string[] | null {
  if (!values || values.length === 0) return null;
  const distinct = [...new Set(values)];
  if (distinct.length > MAX_FILTER_VALUES) throw validationError(`${name} takes at most ${MAX_FILTER_VALUES} values, got ${distinct.length}`);
  const long = distinct.find((v) => v.length > maxLength);
  if (long !== undefined) throw validationError(`each ${name} value is at most ${maxLength} characters, got "${long.slice(0, 40)}..."`);
  return distinct;
}
