import { z } from 'zod';
import { int32, parseInput, text } from '../../lib/validate.ts';

export const createKeyInput = z.object({
  /** null: every project. */
  projectId: int32(1).nullable(),
  scope: z.enum(['read', 'write']),
  name: text(200).nullish(),
});
export type CreateKeyInput = z.infer<typeof createKeyInput>;
/** @throws DomainError VALIDATION_FAILED */
export const parseKey = (value: unknown): CreateKeyInput => parseInput(createKeyInput, value, 'API key');
