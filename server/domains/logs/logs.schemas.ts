import { z } from 'zod';
import { int32 } from '../../lib/validate.ts';

/** One log line (seed §6: `POST /sessions/{id}/log`). */
export const logInput = z.object({
  ts: z.string().max(64).nullish(),
  level: z
    .string()
    .max(16)
    .transform((s) => s.toUpperCase())
    .default('INFO'),
  msg: z.string().max(64 * 1024, 'at most 64 KiB'),
  module: z.string().max(200).nullish(),
  lineno: int32(-(2 ** 31)).nullish(),
  kind: z.enum(['console', 'error']).default('console'),
});
export type LogInput = z.input<typeof logInput>;

export const MAX_LOG_BATCH = 1000;
export const logBatchInput = z.array(logInput).min(1).max(MAX_LOG_BATCH, `at most ${MAX_LOG_BATCH} lines per batch`);

/** Levels that count as errors for the diagnostics. */
export const ERROR_LEVELS = new Set(['ERROR', 'CRITICAL', 'FATAL']);
