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

/** A number, NaN and ±Infinity included (they are data here, not errors). */
export const metric = z.custom<number>((v) => typeof v === 'number', { message: 'expected a number (NaN and Infinity allowed)' });

/** A JSON object (a telemetry channel, a config). Contents are kept verbatim. */
export const jsonObject = z.custom<JsonObject>((v) => v !== null && typeof v === 'object' && !Array.isArray(v), {
  message: 'expected a JSON object',
});

