import { z } from 'zod';
import { validationError } from '../errors.ts';
import type { JsonObject } from './extended-json.ts';

/**
 * Validates input against a schema.
 * @throws DomainError VALIDATION_FAILED naming each bad field, e.g. `step_index: expected an integer`
 */
export function parseInput<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const problems = r.error.issues.slice(0, 5).map((i) => `${i.path.length ? i.path.join('.') : what}: ${i.message}`);
  throw validationError(`Invalid ${what}: ${problems.join('; ')}`, { problems });
}

/**
 * A string of at most `max` characters that is well-formed Unicode: a lone surrogate (which
 * JSON escapes can carry) cannot be stored as UTF-8 and would read back changed.
 */
export const text = (max: number) =>
  z
    .string()
    .max(max, `at most ${max} characters`)
    // With the u flag a surrogate pair is one code point, so the class matches lone surrogates only.
    .refine((s) => !/[\uD800-\uDFFF]/u.test(s), 'expected well-formed Unicode (a lone surrogate is not)');

/** The largest integer every API can return (GraphQL's Int is 32-bit). */
export const MAX_INT32 = 2 ** 31 - 1;

/** A whole number from `min` to 2^31 - 1, so that GraphQL's Int can carry it back. */
export const int32 = (min = 0) =>
  z
    .number({ message: 'expected an integer' })
    .int('expected an integer')
    .min(min, `expected an integer from ${min} to ${MAX_INT32}`)
    .max(MAX_INT32, `expected an integer from ${min} to ${MAX_INT32}`);

/** An ISO 8601 date (and time), e.g. `2026-02-21T10:30:00.123456` as Python's isoformat writes it. */
export const isoDateTime = z
  .string()
  .max(64)
  .refine(
    (s) => /^[1-9]\d{3}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/.test(s) && !Number.isNaN(Date.parse(s)),
    'expected an ISO 8601 date-time from year 1000 to 9999, e.g. 2026-02-21T10:30:00',
  );

/** A number, NaN and ±Infinity included (they are data here, not errors). */
export const metric = z.custom<number>((v) => typeof v === 'number', { message: 'expected a number (NaN and Infinity allowed)' });

/** A JSON object (a telemetry channel, a config). Contents are kept verbatim. */
export const jsonObject = z.custom<JsonObject>((v) => v !== null && typeof v === 'object' && !Array.isArray(v), {
  message: 'expected a JSON object',
});

