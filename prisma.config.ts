import { defineConfig } from 'prisma/config';

// Migrations are made and applied by Prisma's Wasm schema engine (scripts/migrate-new.ts,
// server/db/schema-engine.ts), so the CLI only generates the clients: `npm run prisma:generate`
// runs it once per database (prisma/sqlite, prisma/postgres); this default is SQLite's.
export default defineConfig({
  schema: 'prisma/sqlite',
  migrations: { path: 'prisma/sqlite/migrations' },
});
