import { defineConfig } from 'prisma/config';

// Migrations are made and applied by Prisma's Wasm schema engine (scripts/migrate-new.ts,
// server/db/migrate.ts), so the CLI here only generates the client.
export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
});
