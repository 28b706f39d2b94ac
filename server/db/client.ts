import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3';
import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from '../generated/prisma/client.ts';
import { PrismaClient as PostgresPrismaClient } from '../generated/postgres/client.ts';
import { providerOf, redact, sqlitePath, type Provider } from './provider.ts';
import { applyMigrations, ensurePostgresDatabase } from './schema-engine.ts';
import { withStatementCache } from './statement-cache.ts';
import { decodeText, encodeText, mapStrings } from './text-codec.ts';

/**
 * The Prisma client the services use. Both databases share one set of models, so the
 * PostgreSQL client (generated from the same models) answers the same calls; it is typed as
 * SQLite's here, the one place that knows there are two.
 */
export type Db = PrismaClient;

/** How raw SQL writes and reads a string: as it is on SQLite, NUL escaped on PostgreSQL (text-codec.ts). */
export interface RawText {
  encode(s: string): string;
  decode(s: string): string;
}

/**
 * Options of the interactive transactions the services open: on a busy machine a transaction
 * may wait for the connection (SQLite has one) longer than Prisma's default 2 s; slow is not
 * broken.
 */
export const TX_OPTIONS = { maxWait: 15_000, timeout: 30_000 } as const;

/** Strings stored as they are (SQLite). */
export const PLAIN_TEXT: RawText = { encode: (s) => s, decode: (s) => s };

/** An open database, with the provider behind it (for the few queries that must differ). */
export interface OpenDatabase {
  db: Db;
  provider: Provider;
  /** Strings of raw SQL writes and reads (Prisma's own queries are handled): PostgreSQL escapes NUL. */
  text: RawText;
  /** Migrations applied at this start (empty when the database was current). */
  applied: string[];
  /** The database runs data-modifying CTEs (`WITH u AS (UPDATE ... RETURNING ...) INSERT ...`): PostgreSQL, not SQLite. */
  writableCte: boolean;
}

/**
 * Opens the database a URL names, creating it and applying pending migrations with Prisma's
 * engine: a SQLite file (`file:`, its folder created; WAL mode) or a PostgreSQL database
 * (`postgresql://`, created on the server when missing; several servers starting at once
 * migrate it once, the engine holds an advisory lock).
 */
export async function openDatabase(url: string): Promise<OpenDatabase> {
  const provider = providerOf(url);
  return provider === 'sqlite' ? openSqlite(url) : openPostgres(url);
}

/** `synchronous=NORMAL` in WAL mode keeps every committed transaction across a crash of the process (kill -9). */
async function openSqlite(url: string): Promise<OpenDatabase> {
  const file = sqlitePath(url);
  mkdirSync(path.dirname(file), { recursive: true });
  const fileUrl = `file:${file}`;
  let applied: string[];
  try {
    applied = await applyMigrations(fileUrl);
  } catch (err) {
    // Prisma's engine locks the file exclusively to migrate; its adapter reports SQLITE_BUSY as SocketTimeout.
    if (/SocketTimeout|database is locked|SQLITE_BUSY/.test(String(err)))
      throw new Error(`The database ${file} is in use by another process (is another Observer server running on it?)`, { cause: err });
    throw err;
  }
  const db = new PrismaClient({ adapter: withStatementCache(new PrismaBetterSqlite3({ url: fileUrl })) });
  await db.$queryRawUnsafe('PRAGMA journal_mode = WAL');
  await db.$executeRawUnsafe('PRAGMA synchronous = NORMAL');
  await db.$executeRawUnsafe('PRAGMA foreign_keys = ON');
  return { db, provider: 'sqlite', text: PLAIN_TEXT, applied, writableCte: false };
}

async function openPostgres(url: string): Promise<OpenDatabase> {
  try {
    await ensurePostgresDatabase(url);
  } catch (err) {
    throw new Error(`Cannot reach PostgreSQL at ${redact(url)}: ${(err as Error).message}`, { cause: err });
  }
  const applied = await applyMigrations(url);
  const client = new PostgresPrismaClient({ adapter: new PrismaPg({ connectionString: url }) }).$extends({
    // PostgreSQL's text cannot hold NUL: every string goes in escaped and comes out as sent (see text-codec.ts).
    query: {
      $allModels: {
        async $allOperations({ args, query }) {
          return mapStrings(await query(mapStrings(args, encodeText)), decodeText);
        },
      },
    },
  });
  return { db: client as unknown as Db, provider: 'postgresql', text: { encode: encodeText, decode: decodeText }, applied, writableCte: true };
}
