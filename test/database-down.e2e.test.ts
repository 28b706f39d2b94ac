/**
 * PostgreSQL going away under a running server: requests answer 503 with Retry-After (never
 * 500), nothing acknowledged is lost, and the server serves again once the database is back.
 * The outage is made for this test's database alone (it stops accepting connections and its
 * sessions are ended), never for the machine's server.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { postgresTarget } from '../server/db/provider.ts';
import { adminQuery } from '../server/db/schema-engine.ts';
import { freshPostgresDatabase, TEST_POSTGRES_URL } from './helpers/postgres.ts';
import { defer, disposeAll, gql, post, startTestServer } from './helpers/server.ts';

afterEach(disposeAll);

async function setAvailable(url: string, available: boolean): Promise<void> {
  const name = new URL(url).pathname.slice(1);
  await adminQuery(TEST_POSTGRES_URL, `ALTER DATABASE "${name}" ALLOW_CONNECTIONS ${available}`);
  if (!available) await adminQuery(TEST_POSTGRES_URL, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '${name}'`);
}

describe('PostgreSQL down under a running server', () => {
  it('answers 503 with Retry-After over REST, GraphQL and /health, loses nothing acknowledged, and serves again once it is back', async () => {
    const { url, drop } = await freshPostgresDatabase();
    defer(drop);
    expect(postgresTarget(url).database).toMatch(/^observer_test_/);
    const s = await startTestServer({ databaseUrl: url });
    defer(() => setAvailable(url, true));
    await post(`${s.url}/projects`, { name: 'p' });
    const session = JSON.parse((await post(`${s.url}/sessions/project/1`, { run_name: 'r' })).text).id as number;
    expect((await post(`${s.url}/sessions/${session}/step`, { step_index: 0, loss: { train_mean: 2 } })).status).toBe(200);
    await s.services.diagnostics.idle();

    await setAvailable(url, false);
    const refused = await fetch(`${s.url}/sessions/${session}/step`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ step_index: 1, loss: { train_mean: 1.9 } }) });
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('5');
    expect(((await refused.json()) as { code: string }).code).toBe('SERVICE_UNAVAILABLE');
    const health = await fetch(`${s.url}/health`);
    expect(health.status).toBe(503);
    expect(await health.json()).toEqual({ status: 'unavailable', database: 'down' });
    const viaGraphQL = await gql(s.url, 'mutation($s: Int!) { recordStep(sessionId: $s, input: { stepIndex: 1, loss: { trainMean: 1.9 } }) { created } }', { s: session });
    expect(viaGraphQL.errors?.[0]?.extensions?.code).toBe('SERVICE_UNAVAILABLE');
    expect(viaGraphQL.status).toBe(503);

    await setAvailable(url, true);
    expect((await post(`${s.url}/sessions/${session}/step`, { step_index: 1, loss: { train_mean: 1.9 } })).status).toBe(200);
    expect((await fetch(`${s.url}/health`)).status).toBe(200);
    const steps = (await (await fetch(`${s.url}/sessions/${session}/steps`)).json()) as { items: { step_index: number }[] };
    expect(steps.items.map((x) => x.step_index)).toEqual([0, 1]);
  });
});
