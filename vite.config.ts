import { createRequire } from 'node:module';
import { defineConfig } from 'vitest/config';

const require = createRequire(import.meta.url);

export default defineConfig({
  resolve: {
    // Vite would give our sources graphql's ESM build while Node gives yoga and Pothos its
    // CommonJS build: two copies of graphql that reject each other's types. Use Node's one.
    alias: [{ find: /^graphql$/, replacement: require.resolve('graphql') }],
  },
  test: {
    include: ['server/**/*.test.ts', 'observer/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 30_000,
    // The machines have 2 cores; end-to-end suites each start a real server.
    maxWorkers: 2,
  },
});
