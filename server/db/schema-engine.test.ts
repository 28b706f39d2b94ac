import { describe, expect, it } from 'vitest';
import { TEST_POSTGRES_URL } from '../../test/helpers/postgres.ts';
import { diffSchemaAgainstMigrations } from './schema-engine.ts';

describe('migrations', () => {
  it('of SQLite match the models: a model change committed without its migration fails here', async () => {
    expect(await diffSchemaAgainstMigrations(':memory:')).toBe('');
  });

  it('of PostgreSQL match the models (replayed into a shadow database on the local server)', async () => {
    expect(await diffSchemaAgainstMigrations(TEST_POSTGRES_URL)).toBe('');
  });
});
