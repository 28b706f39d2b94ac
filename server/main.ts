import { startServer } from './app.ts';
import { loadConfig } from './config.ts';
import { redact } from './db/provider.ts';

let config: ReturnType<typeof loadConfig>;
try {
  config = loadConfig();
} catch (err) {
  console.error('[observer] could not start:', err instanceof Error ? err.message : err);
  process.exit(1);
}
try {
  const server = await startServer(config);
  if (server.appliedMigrations.length) console.log(`[observer] applied migrations: ${server.appliedMigrations.join(', ')}`);
  console.log(`[observer] serving on ${server.url} (GraphiQL at ${server.url}/graphql), database ${redact(config.databaseUrl)}`);
  let stopping = false;
  let cutDrainShort = () => {};
  // SIGTERM (a rolling deploy, the cluster launcher) drains first: /health answers 503 for
  // SHUTDOWN_DRAIN_MS so the balancer takes this replica out while requests are still served.
  // SIGINT (Ctrl-C), or a second signal during the drain, closes at once.
  const stop = async (signal: NodeJS.Signals) => {
    if (stopping) return cutDrainShort();
    stopping = true;
    if (signal === 'SIGTERM' && config.shutdownDrainMs > 0) {
      server.drain();
      console.log(`[observer] ${signal}: draining for ${config.shutdownDrainMs} ms (/health answers 503), then closing`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, config.shutdownDrainMs);
        cutDrainShort = () => (clearTimeout(timer), resolve());
      });
    }
    console.log(`[observer] ${signal}: closing connections and the database`);
    server.close().then(
      () => process.exit(0),
      (err) => {
        console.error('[observer] error while closing:', err);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
} catch (err) {
  console.error('[observer] could not start:', err instanceof Error ? err.message : err);
  process.exit(1);
}
