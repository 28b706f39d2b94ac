import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { createRequire } from 'node:module';
import { bindMigrationAwareSqlAdapterFactory } from '@prisma/driver-adapter-utils';
import type { SqlDriverAdapter, SqlMigrationAwareDriverAdapterFactory } from '@prisma/driver-adapter-utils';
import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3';
import { PrismaPg } from '@prisma/adapter-pg';
import type { MigrationList, SchemaEngine as SchemaEngineType } from '@prisma/schema-engine-wasm';
import pg from 'pg';
import { parse } from 'pg-connection-string';
import { MODELS_PATH, migrationsDir, postgresTarget, providerOf, schemaDir, type Provider } from './provider.ts';

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

/** A provider's schema as the engine reads it: its header (generator, datasource) and the shared models. */
async function schemaFiles(p: Provider): Promise<{ path: string; content: string }[]> {
  const header = path.join(schemaDir(p), 'schema.prisma');
  return [
    { path: header, content: await readFile(header, 'utf8') },
    { path: MODELS_PATH, content: await readFile(MODELS_PATH, 'utf8') },
  ];
}

/** A schema engine and the database connections it opened, closed together. */
interface OpenEngine {
  engine: SchemaEngineType;
  provider: Provider;
  close(): Promise<void>;
}

/**
 * Opens Prisma's schema engine on a database: a SQLite file (or `:memory:`), or a PostgreSQL
 * URL. The engine does not close the connections it opens through the adapter (an open one
 * keeps SQLite busy for the next opener), so they are tracked here and disposed by `close()`.
 */
async function openSchemaEngine(url: string, onLog?: (line: string) => void): Promise<OpenEngine> {
  const bg = await loadEngineModule();
  const provider = url === ':memory:' ? 'sqlite' : providerOf(url);
  const opened: SqlDriverAdapter[] = [];
  const track = (adapter: SqlDriverAdapter) => {
    opened.push(adapter);
    return adapter;
  };
  const factory = provider === 'sqlite' ? sqliteFactory(url, track) : postgresFactory(url, track);
  const engine = await bg.SchemaEngine.new(
    { datamodels: (await schemaFiles(provider)).map((f) => [f.path, f.content]) },
    (line: string) => onLog?.(line),
    bindMigrationAwareSqlAdapterFactory(factory),
  );
  return {
    engine,
    provider,
    async close() {
      engine.free();
      await Promise.all(opened.map((a) => a.dispose()));
    },
  };
}

type Track = (adapter: SqlDriverAdapter) => SqlDriverAdapter;

function sqliteFactory(url: string, track: Track): SqlMigrationAwareDriverAdapterFactory {
  const factory = new PrismaBetterSqlite3({ url });
  return {
    provider: factory.provider,
    adapterName: factory.adapterName,
    connect: async () => track(await factory.connect()),
    connectToShadowDb: async () => track(scriptsAsScripts(await factory.connectToShadowDb())),
  };
}

/**
 * PostgreSQL through adapter-pg, with what the engine needs of it (PLATFORM.md): pg_catalog's
 * `"char"` columns read as text while the engine introspects, and a shadow database made from
 * the URL's parts (adapter-pg's own builds it from the connection string, which pg then uses
 * instead of the shadow's name) and dropped once, whoever disposes it first.
 */
function postgresFactory(url: string, track: Track): SqlMigrationAwareDriverAdapterFactory {
  const main = new PrismaPg({ connectionString: url });
  return {
    provider: main.provider,
    adapterName: main.adapterName,
    connect: async () => track(charAsText(await main.connect())),
    connectToShadowDb: async () => {
      const name = `observer_shadow_${process.pid}_${Date.now()}`;
      await adminQuery(url, `CREATE DATABASE "${name}"`);
      const cfg = parse(url);
      const shadow = new PrismaPg({
        host: cfg.host ?? undefined,
        port: cfg.port ? Number(cfg.port) : undefined,
        user: cfg.user,
        password: cfg.password,
        database: name,
      });
      const adapter = charAsText(await shadow.connect());
      const dispose = adapter.dispose.bind(adapter);
      let disposed: Promise<void> | undefined;
      adapter.dispose = () =>
        (disposed ??= (async () => {
          await dispose();
          await adminQuery(url, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
        })());
      return track(adapter);
    },
  };
}

/** adapter-pg cannot read pg_catalog's one-byte `"char"` type (OID 18); it is text to the engine. */
function charAsText(adapter: SqlDriverAdapter): SqlDriverAdapter {
  const io = adapter as unknown as { performIO: (q: unknown) => Promise<{ fields: { dataTypeID: number }[] }> };
  const performIO = io.performIO.bind(adapter);
  io.performIO = async (q) => {
    const result = await performIO(q);
    for (const f of result.fields ?? []) if (f.dataTypeID === 18) f.dataTypeID = 25;
    return result;
  };
  return adapter;
}

/** One statement on the server's `postgres` database (creating and dropping databases). */
export async function adminQuery(url: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: postgresTarget(url).withDatabase('postgres') });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/**
 * Creates the URL's database when it does not exist yet (two replicas racing to create it
 * both succeed).
 */
export async function ensurePostgresDatabase(url: string): Promise<void> {
  // Connect to the database itself first: a role may be allowed into its own database only.
  const own = new pg.Client({ connectionString: url });
  try {
    await own.connect();
    return;
  } catch (err) {
    if ((err as { code?: string }).code !== '3D000') throw err; // 3D000 invalid_catalog_name: it does not exist
  } finally {
    await own.end().catch(() => {});
  }
  const { database } = postgresTarget(url);
  const client = new pg.Client({ connectionString: postgresTarget(url).withDatabase('postgres') });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE "${database.replace(/"/g, '""')}"`).catch((err: { code?: string }) => {
      // 42P04 duplicate_database, 23505 unique_violation: another replica created it meanwhile.
      if (err.code !== '42P04' && err.code !== '23505') throw err;
    });
  } finally {
    await client.end();
  }
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

/** Reads a provider's `migrations/` folder in Prisma's standard layout. */
async function readMigrations(dir: string): Promise<MigrationList> {
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
  const { engine, provider, close } = await openSchemaEngine(url);
  try {
    const out = await engine.applyMigrations({ migrationsList: await readMigrations(migrationsDir(provider)), filters: NO_FILTERS });
    return out.appliedMigrationNames;
  } finally {
    await close();
  }
}

/**
 * The SQL that would take a provider's committed migrations to the current models (empty when
 * none). SQLite diffs in memory; PostgreSQL needs a server (`url`), on which the engine makes
 * and drops a shadow database.
 */
export async function diffSchemaAgainstMigrations(url: string): Promise<string> {
  const { engine, provider, close } = await openSchemaEngine(url);
  try {
    const migrations = await readMigrations(migrationsDir(provider));
    const from = migrations.migrationDirectories.length
      ? { tag: 'migrations' as const, ...migrations }
      : { tag: 'empty' as const };
    const out = await engine.diff({
      from,
      to: { tag: 'schemaDatamodel', files: await schemaFiles(provider) },
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
