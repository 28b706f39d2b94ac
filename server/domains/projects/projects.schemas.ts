import { z } from 'zod';

export const createProjectInput = z.object({
  name: z.string().trim().min(1, 'must not be empty').max(200, 'at most 200 characters'),
});
export type CreateProjectInput = z.infer<typeof createProjectInput>;
