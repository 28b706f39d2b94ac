import { createRequire } from 'node:module';
import path from 'node:path';
import react from '@vitejs/plugin-react';
import { defaultClientConditions, defaultServerConditions } from 'vite';
import { defineConfig } from 'vitest/config';

const require = createRequire(import.meta.url);
/** The export condition under which `@observer/tfjs` resolves to its sources (see observer/package.json). */
export const OBSERVER_SOURCE = '@observer/source';
const server = process.env.OBSERVER_URL ?? 'http://127.0.0.1:8000';
/** End-to-end suites that run on PostgreSQL as well as SQLite. */
const POSTGRES_SUITES = ['rest', 'graphql', 'subscriptions', 'python-client', 'durability', 'hardening', 'fuzz', 'auth-matrix', 'auth', 'remedies'];

export default defineConfig({
  // The web app (npm run build:web / npm run dev); tests run from the repository root.
  root: path.resolve(import.meta.dirname, 'web'),
  plugins: [react()],
  build: { outDir: path.resolve(import.meta.dirname, 'dist/web'), emptyOutDir: true, chunkSizeWarningLimit: 4000 },
  server: {
    // `npm run dev`: the app from Vite, the API from a running server.
    proxy: {
      '/graphql': { target: server, ws: true, changeOrigin: true },
      '/projects': server,
      '/sessions': server,
      '/health': server,
    },
  },
  resolve: {
    // The Observer package (observer/, an npm workspace) is read from its TypeScript sources,
    // not its build: `@observer/source` is the first condition of its `exports`.
    conditions: [OBSERVER_SOURCE, ...defaultClientConditions],
    // Vite would give our sources graphql's ESM build while Node gives yoga and Pothos its
    // CommonJS build: two copies of graphql that reject each other's types. Use Node's one.
    alias: [{ find: /^graphql$/, replacement: require.resolve('graphql') }],
  },
  ssr: { resolve: { conditions: [OBSERVER_SOURCE, ...defaultServerConditions] } },
  test: {
    dir: import.meta.dirname,
    projects: [
      // Everything, on the embedded default (a temporary SQLite file per server).
      { extends: true, test: { name: 'sqlite', include: ['server/**/*.test.ts', 'observer/**/*.test.ts', 'web/**/*.test.ts', 'test/**/*.test.ts'] } },
      // The server's contract once more on PostgreSQL, each server on a fresh database (the machines run one; see test/helpers/postgres.ts).
      {
        extends: true,
        test: {
          name: 'postgres',
          include: POSTGRES_SUITES.map((f) => `test/${f}.e2e.test.ts`),
          env: { OBSERVER_TEST_DB: 'postgres' },
        },
      },
    ],
    // Generous: end-to-end suites share 2 cores with headless Chromium; a hang is still caught.
    testTimeout: 60_000,
    hookTimeout: 30_000,
    // The machines have 2 cores; end-to-end suites each start a real server.
    maxWorkers: 2,
  },
});
