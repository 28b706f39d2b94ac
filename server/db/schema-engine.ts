import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { createRequire } from 'node:module';
import { bindMigrationAwareSqlAdapterFactory } from '@prisma/driver-adapter-utils';
import type { SqlDriverAdapter, SqlMigrationAwareDriverAdapterFactory } from '@prisma/driver-adapter-utils';
import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3';
import type { MigrationList, SchemaEngine as SchemaEngineType } from '@prisma/schema-engine-wasm';

/** Where the Prisma schema and its migrations live, relative to the repository root. */
export const PRISMA_DIR = path.resolve(import.meta.dirname, '../../prisma');
export const SCHEMA_PATH = path.join(PRISMA_DIR, 'schema.prisma');
export const MIGRATIONS_DIR = path.join(PRISMA_DIR, 'migrations');

const NO_FILTERS = { externalTables: [], externalEnums: [] };

type SchemaEngineModule = typeof import('@prisma/schema-engine-wasm/schema_engine_bg');
let enginePromise: Promise<SchemaEngineModule> | undefined;

/**
 * Loads Prisma's schema engine, published as Wasm, so migrations are made and applied by
 * Prisma itself without the native engine the CLI would download (see PLATFORM.md).
 */
function loadEngineModule(): Promise<SchemaEngineModule> {
  enginePromise ??= (async () => {
    const bg = await import('@prisma/schema-engine-wasm/schema_engine_bg');
    const require = createRequire(import.meta.url);
    const pkgDir = path.dirname(require.resolve('@prisma/schema-engine-wasm'));
    const bytes = await readFile(path.join(pkgDir, 'schema_engine_bg.wasm'));
    const { instance } = await WebAssembly.instantiate(bytes, {
      './schema_engine_bg.js': bg as unknown as WebAssembly.ModuleImports,
    });
    bg.__wbg_set_wasm(instance.exports);
    (instance.exports.__wbindgen_start as () => void)();
    return bg;
  })();
  return enginePromise;
}

/** A schema engine and the database connections it opened, closed together. */
interface OpenEngine {
  engine: SchemaEngineType;
  close(): Promise<void>;
}

/**
 * Opens Prisma's schema engine on a SQLite file (or `:memory:`). The engine does not close
 * the connections it opens through the adapter, and an open one keeps SQLite busy for the
 * next opener, so they are tracked here and disposed by `close()`.
 */
export async function openSchemaEngine(url: string, onLog?: (line: string) => void): Promise<OpenEngine> {
  const bg = await loadEngineModule();
  const schema = await readFile(SCHEMA_PATH, 'utf8');
  const factory = new PrismaBetterSqlite3({ url });
  const opened: SqlDriverAdapter[] = [];
  const tracking: SqlMigrationAwareDriverAdapterFactory = {
    provider: factory.provider,
    adapterName: factory.adapterName,
    connect: async () => track(await factory.connect()),
    connectToShadowDb: async () => track(scriptsAsScripts(await factory.connectToShadowDb())),
  };
  function track(adapter: SqlDriverAdapter): SqlDriverAdapter {
    opened.push(adapter);
    return adapter;
  }
  const engine = await bg.SchemaEngine.new(
    { datamodels: [[SCHEMA_PATH, schema]] },
    (line: string) => onLog?.(line),
    bindMigrationAwareSqlAdapterFactory(tracking),
  );
  return {
    engine,
    async close() {
      engine.free();
      await Promise.all(opened.map((a) => a.dispose()));
    },
  };
}

/**
 * The Wasm engine replays a migration into the shadow database as one `executeRaw` of the
 * whole file, which better-sqlite3 refuses ("contains more than one statement"): a raw
 * statement without parameters goes through `executeScript` instead, as the migration would.
 */
function scriptsAsScripts(adapter: SqlDriverAdapter): SqlDriverAdapter {
  const executeRaw = adapter.executeRaw.bind(adapter);
  adapter.executeRaw = async (query) => {
    if (query.args.length > 0) return executeRaw(query);
    await adapter.executeScript(query.sql);
    return 0;
  };
  return adapter;
}

/** Reads `prisma/migrations` in Prisma's standard layout. */
export async function readMigrations(dir = MIGRATIONS_DIR): Promise<MigrationList> {
  let names: string[] = [];
  try {
    names = (await readdir(dir, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name).sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const lockPath = path.join(dir, 'migration_lock.toml');
  const lockContent = await readFile(lockPath, 'utf8').catch(() => null);
  const migrationDirectories = await Promise.all(
    names.map(async (name) => ({
      path: name,
      migrationFile: {
        path: 'migration.sql',
        content: await readFile(path.join(dir, name, 'migration.sql'), 'utf8').then(
          (value) => ({ tag: 'ok' as const, value }),
          (err: Error) => ({ tag: 'error' as const, value: err.message }),
        ),
      },
    })),
  );
  return {
    baseDir: dir,
    lockfile: { path: 'migration_lock.toml', content: lockContent },
    shadowDbInitScript: '',
    migrationDirectories,
  };
}

/**
 * Applies the migrations not yet recorded in `_prisma_migrations`. Running it again
 * applies nothing.
 * @returns the names of the migrations it applied
 */
export async function applyMigrations(url: string): Promise<string[]> {
  const { engine, close } = await openSchemaEngine(url);
  try {
    const out = await engine.applyMigrations({ migrationsList: await readMigrations(), filters: NO_FILTERS });
    return out.appliedMigrationNames;
  } finally {
    await close();
  }
}

/** The SQL that would take the committed migrations to the current `schema.prisma` (empty when none). */
export async function diffSchemaAgainstMigrations(): Promise<string> {
  const { engine, close } = await openSchemaEngine(':memory:');
  try {
    const schema = await readFile(SCHEMA_PATH, 'utf8');
    const migrations = await readMigrations();
    const from = migrations.migrationDirectories.length
      ? { tag: 'migrations' as const, ...migrations }
      : { tag: 'empty' as const };
    const out = await engine.diff({
      from,
      to: { tag: 'schemaDatamodel', files: [{ path: SCHEMA_PATH, content: schema }] },
      script: true,
      exitCode: null,
      filters: NO_FILTERS,
    });
    const sql = out.stdout ?? '';
    return /^\s*(-- This is an empty migration\.)?\s*$/.test(sql) ? '' : sql;
  } finally {
    await close();
  }
}
