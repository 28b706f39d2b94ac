import { z } from 'zod';
import { jsonObject } from '../../lib/validate.ts';
import { SESSION_ACTIONS } from './status.ts';

const text = (max: number) => z.string().max(max, `at most ${max} characters`);

/** A session's metadata (seed §6: what `POST /sessions/project/{id}` takes), camelCase. */
export const createSessionInput = z.object({
  runId: text(200).min(1).nullish(),
  runName: text(200).nullish(),
  startedAt: z
    .string()
    .refine((s) => !Number.isNaN(Date.parse(s)), 'expected an ISO 8601 date-time')
    .nullish(),
  device: text(200).nullish(),
  cudaAvailable: z.boolean().nullish(),
  pytorchVersion: text(64).nullish(),
  config: jsonObject.nullish(),
  /** Everything else the client sent (tfjs version, backend, user agent...). */
  metadata: jsonObject.nullish(),
});
export type CreateSessionInput = z.infer<typeof createSessionInput>;

export const registerModelInput = z.object({
  architecture: jsonObject.nullish(),
  hyperparameters: jsonObject.nullish(),
});
export type RegisterModelInput = z.infer<typeof registerModelInput>;

export const sessionActionInput = z.enum(SESSION_ACTIONS as [string, ...string[]], {
  message: `expected one of ${SESSION_ACTIONS.join(', ')}`,
});

export const listSessionsInput = z.object({
  projectId: z.number().int().nullish(),
  status: z.string().nullish(),
  first: z.number().int().min(1).max(500).default(50),
  after: z.number().int().nullish(),
});
export type ListSessionsInput = z.input<typeof listSessionsInput>;
