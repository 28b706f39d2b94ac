import { z } from 'zod';
import { parseInput, text } from '../../lib/validate.ts';

export const createProjectInput = z.object({
  // Stored as sent (not trimmed), so it reads back the same; it must have something besides spaces.
  name: text(200).refine((s) => s.trim().length > 0, 'must not be empty'),
});
export type CreateProjectInput = z.infer<typeof createProjectInput>;
/** @throws DomainError VALIDATION_FAILED */
export const parseProject = (value: unknown): CreateProjectInput => parseInput(createProjectInput, value, 'project');
