/**
 * API keys on the database of DATABASE_URL (as the server reads it):
 *   npm run keys -- create --project 1 --scope write [--name laptop]   (--project all: every project)
 *   npm run keys -- list
 *   npm run keys -- revoke <id>
 * The secret is printed once. With REDIS_URL set, a revocation reaches running replicas at
 * once (their WebSockets of that key close with 4403); without it, within 5 seconds.
 */
import { parseArgs } from 'node:util';
import { loadConfig } from '../server/config.ts';
import { openDatabase } from '../server/db/client.ts';
import { redact } from '../server/db/provider.ts';
import { parseKey } from '../server/domains/keys/keys.schemas.ts';
import { KeysService } from '../server/domains/keys/keys.service.ts';
import type { Topics } from '../server/domains/views.ts';
import { isDomainError } from '../server/errors.ts';
import { createLocalBus, createRedisBus } from '../server/lib/event-bus.ts';
import { PubSub } from '../server/lib/pubsub.ts';

const USAGE = 'usage: npm run keys -- create --project <id|all> --scope read|write [--name <name>] | list | revoke <id>';
const config = loadConfig();
const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: { project: { type: 'string' }, scope: { type: 'string' }, name: { type: 'string' } },
});
const [command, arg] = positionals;
if (!command || !['create', 'list', 'revoke'].includes(command)) {
  console.error(USAGE);
  process.exit(2);
}

const { db } = await openDatabase(config.databaseUrl);
const bus = config.redisUrl ? createRedisBus(config.redisUrl, config.redisPrefix, (err) => console.warn(`[keys] Redis: ${String(err)}`)) : createLocalBus();
const pubsub = new PubSub<Topics>(16, { sessionStatus: 'latest', sessionSteps: 'drop-oldest', sessionLogs: 'drop-oldest', sessionCreated: 'drop-oldest', apiKeyRevoked: 'drop-oldest' }, bus);
const keys = new KeysService(db, pubsub, { adminToken: undefined });
let code = 0;
try {
  if (command === 'create') {
    const project = values.project === 'all' ? null : Number(values.project);
    if (values.project === undefined) throw new Error(`--project is required (an id, or "all")\n${USAGE}`);
    const { key, secret } = await keys.create(parseKey({ projectId: project, scope: values.scope, name: values.name }));
    console.log(`created key ${key.id} (${key.scope}, ${key.projectId === null ? 'every project' : `project ${key.projectId}`}) on ${redact(config.databaseUrl)}`);
    console.log(`secret (shown once, stored only as a hash):\n${secret}`);
  } else if (command === 'list') {
    for (const k of await keys.list())
      console.log([k.id, k.prefix, k.scope, k.projectId ?? 'all', k.name ?? '', k.createdAt.toISOString(), k.revokedAt ? `revoked ${k.revokedAt.toISOString()}` : 'active'].join('\t'));
  } else {
    const id = Number(arg);
    if (!Number.isInteger(id)) throw new Error(`revoke needs a key id\n${USAGE}`);
    // The publisher drops events until Redis is connected: wait for it (running replicas also sweep every 5 s).
    for (let i = 0; config.redisUrl && bus.state() !== 'up' && i < 100; i++) await new Promise((r) => setTimeout(r, 20));
    const k = await keys.revoke(id);
    // Let the event leave through Redis before closing.
    await new Promise((r) => setTimeout(r, 200));
    console.log(`revoked key ${k.id} (${k.prefix}) at ${k.revokedAt?.toISOString()}`);
  }
} catch (err) {
  console.error(isDomainError(err) || err instanceof Error ? err.message : err);
  code = 1;
} finally {
  pubsub.closeAll();
  await bus.close();
  await db.$disconnect();
}
process.exit(code);
