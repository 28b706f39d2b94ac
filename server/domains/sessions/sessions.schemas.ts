import { z } from 'zod';
import type { ChosenRemedy } from '../../diagnostics/remedy.ts';
import { validationError } from '../../errors.ts';
import { isoDateTime, jsonObject, parseInput, text } from '../../lib/validate.ts';
import { parseRemedies, parseSource } from '../remedies/remedies.schemas.ts';
import { SESSION_ACTIONS, SESSION_STATUSES, type SessionAction } from './status.ts';

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

const sessionActionInput = z.enum(SESSION_ACTIONS as [string, ...string[]], {
  message: `expected one of ${SESSION_ACTIONS.join(', ')}`,
});

export const listSessionsInput = z.object({
  projectId: z.number().int().nullish(),
  status: z.enum(SESSION_STATUSES as unknown as [string, ...string[]], { message: `expected one of ${SESSION_STATUSES.join(', ')}` }).nullish(),
  first: z.number().int().nullish(),
  after: z.number().int().nullish(),
});
export type ListSessionsInput = z.output<typeof listSessionsInput>;

/** @throws DomainError VALIDATION_FAILED */
export const parseSession = (value: unknown): CreateSessionInput => parseInput(createSessionInput, value ?? {}, 'session');
/** @throws DomainError VALIDATION_FAILED */
export const parseModel = (value: unknown): RegisterModelInput => parseInput(registerModelInput, value, 'model');
/** @throws DomainError VALIDATION_FAILED */
export const parseSessionsQuery = (value: unknown): ListSessionsInput => parseInput(listSessionsInput, value, 'sessions query');

/** A decision on a session, checked: the action, and with `resume` the remedies to apply and who is asking. */
export interface SessionActionRequest {
  action: SessionAction;
  /** In the order an observer applies them; none when the client sent none. */
  remedies: ChosenRemedy[];
  /** The client's label for the record: `dashboard`, `trainer`, `observer:timeout`... */
  source: string | null;
}

/**
 * An action as a client sent it (`remedies` camelCase, see remedies.schemas.ts). Remedies go
 * with `resume` only. @throws DomainError VALIDATION_FAILED naming the problem
 */
export function parseAction(input: { action: unknown; remedies?: unknown; source?: unknown }): SessionActionRequest {
  const action = parseInput(sessionActionInput, input.action, 'action') as SessionAction;
  const remedies = parseRemedies(input.remedies);
  if (remedies.length && action !== 'resume') throw validationError(`Invalid remedies: remedies go with resume only, not ${action}`, { action });
  return { action, remedies, source: parseSource(input.source) };
}
