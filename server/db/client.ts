import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3';
import { PrismaClient } from '../generated/prisma/client.ts';
import { applyMigrations } from './schema-engine.ts';

export type Db = PrismaClient;

/** The file behind a `file:` SQLite URL, resolved against the working directory. */
export function sqlitePath(url: string): string {
  if (!url.startsWith('file:')) throw new Error(`DATABASE_URL must be a SQLite file: URL, got "${url}"`);
  return path.resolve(url.slice('file:'.length).split('?')[0]!);
}

/**
 * Creates the database folder, applies pending migrations with Prisma's engine, and opens
 * the Prisma client in WAL mode. `synchronous=NORMAL` keeps every committed transaction
 * across a crash of the process (kill -9); only a power loss can take the last ones.
 */
export async function openDatabase(url: string): Promise<{ db: Db; applied: string[] }> {
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
  const db = new PrismaClient({ adapter: new PrismaBetterSqlite3({ url: fileUrl }) });
  await db.$queryRawUnsafe('PRAGMA journal_mode = WAL');
  await db.$executeRawUnsafe('PRAGMA synchronous = NORMAL');
  await db.$executeRawUnsafe('PRAGMA foreign_keys = ON');
  return { db, applied };
}
