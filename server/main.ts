import { startServer } from './app.ts';
import { loadConfig } from './config.ts';
import { redact } from './db/provider.ts';

const config = loadConfig();
try {
  const server = await startServer(config);
  if (server.appliedMigrations.length) console.log(`[observer] applied migrations: ${server.appliedMigrations.join(', ')}`);
  console.log(`[observer] serving on ${server.url} (GraphiQL at ${server.url}/graphql), database ${redact(config.databaseUrl)}`);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`[observer] ${signal}: closing connections and the database`);
    server.close().then(
      () => process.exit(0),
      (err) => {
        console.error('[observer] error while closing:', err);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
} catch (err) {
  console.error('[observer] could not start:', err instanceof Error ? err.message : err);
  process.exit(1);
}
