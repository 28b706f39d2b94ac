import { z } from 'zod';
import { isoDateTime, jsonObject, text } from '../../lib/validate.ts';
import { SESSION_ACTIONS, SESSION_STATUSES } from './status.ts';

/** A session's metadata (seed §6: what `POST /sessions/project/{id}` takes), camelCase. */
export const createSessionInput = z.object({
  runId: text(200).refine((s) => s.length > 0, 'must not be empty').nullish(),
  runName: text(200).nullish(),
  startedAt: isoDateTime.nullish(),
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
  status: z.enum(SESSION_STATUSES as unknown as [string, ...string[]], { message: `expected one of ${SESSION_STATUSES.join(', ')}` }).nullish(),
  first: z.number().int().nullish(),
  after: z.number().int().nullish(),
});
export type ListSessionsInput = z.input<typeof listSessionsInput>;
