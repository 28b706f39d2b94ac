import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { postgresTarget, redact } from '../../server/db/provider.ts';
import { adminQuery } from '../../server/db/schema-engine.ts';

/**
 * The PostgreSQL server tests use: the machines start one at 127.0.0.1:5432 (user postgres,
 * trust) before every session and CI run. Tests that need it fail, never skip, when it is
 * not there, saying how to reach one.
 */
export const TEST_POSTGRES_URL = process.env.OBSERVER_TEST_POSTGRES ?? 'postgresql://postgres@127.0.0.1:5432/postgres';

/** Fails with a message that says what is missing when PostgreSQL does not answer. */
export async function requirePostgres(): Promise<void> {
  const client = new pg.Client({ connectionString: TEST_POSTGRES_URL, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
  } catch (err) {
    throw new Error(
      `PostgreSQL is needed for this test and does not answer at ${redact(TEST_POSTGRES_URL)} (${(err as Error).message}). ` +
        'Start one (apt-get install postgresql; service postgresql start) or point OBSERVER_TEST_POSTGRES at one.',
    );
  } finally {
    await client.end().catch(() => {});
  }
}

/** The name and URL of a database that does not exist yet (for a server to create), and its drop. */
export async function unusedPostgresDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  await requirePostgres();
  const name = `observer_test_${randomBytes(6).toString('hex')}`;
  return { url: postgresTarget(TEST_POSTGRES_URL).withDatabase(name), drop: () => adminQuery(TEST_POSTGRES_URL, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`) };
}

/** A fresh, empty database on the test server, and a function that drops it. */
export async function freshPostgresDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  await requirePostgres();
  const name = `observer_test_${randomBytes(6).toString('hex')}`;
  await adminQuery(TEST_POSTGRES_URL, `CREATE DATABASE "${name}"`);
  return { url: postgresTarget(TEST_POSTGRES_URL).withDatabase(name), drop: () => adminQuery(TEST_POSTGRES_URL, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`) };
}
