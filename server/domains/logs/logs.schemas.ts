import { z } from 'zod';
import { int32, parseInput, text } from '../../lib/validate.ts';

/** One log line (seed §6: `POST /sessions/{id}/log`). */
export const logInput = z.object({
  ts: text(64).nullish(),
  level: text(16)
    .transform((s) => s.toUpperCase())
    .default('INFO'),
  msg: text(64 * 1024),
  module: text(200).nullish(),
  lineno: int32(-(2 ** 31)).nullish(),
  kind: z.enum(['console', 'error']).default('console'),
});

const MAX_LOG_BATCH = 1000;
const logBatchInput = z.array(logInput).min(1).max(MAX_LOG_BATCH, `at most ${MAX_LOG_BATCH} lines per batch`);

/** A log line as checked: level upper-cased, defaults applied. */
export type LogRecord = z.output<typeof logInput>;
/** @throws DomainError VALIDATION_FAILED */
export const parseLog = (value: unknown): LogRecord => parseInput(logInput, value, 'log');
/** @throws DomainError VALIDATION_FAILED */
export const parseLogs = (value: unknown): LogRecord[] => parseInput(logBatchInput, value, 'logs');

/** Levels that count as errors for the diagnostics. */
export const ERROR_LEVELS = new Set(['ERROR', 'CRITICAL', 'FATAL']);
