import { describe, expect, it } from 'vitest';
import { diffSchemaAgainstMigrations } from './schema-engine.ts';

describe('migrations', () => {
  it('match schema.prisma: a schema change committed without its migration fails here', async () => {
    expect(await diffSchemaAgainstMigrations()).toBe('');
  });
});
