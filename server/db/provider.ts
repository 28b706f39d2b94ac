import path from 'node:path';
import { parse } from 'pg-connection-string';

/** The databases Observer runs on: SQLite embedded (the default), PostgreSQL for several replicas. */
export type Provider = 'sqlite' | 'postgresql';

/** Where the Prisma models and each database's schema header and migrations live. */
const PRISMA_DIR = path.resolve(import.meta.dirname, '../../prisma');
export const MODELS_PATH = path.join(PRISMA_DIR, 'models.prisma');
const FOLDER: Record<Provider, string> = { sqlite: 'sqlite', postgresql: 'postgres' };

/** The folder of a provider's `schema.prisma` (generator and datasource) and `migrations/`. */
export const schemaDir = (p: Provider): string => path.join(PRISMA_DIR, FOLDER[p]);
export const migrationsDir = (p: Provider): string => path.join(schemaDir(p), 'migrations');

/**
 * The provider a `DATABASE_URL` names: `file:` is SQLite, `postgres://` or `postgresql://` is
 * PostgreSQL.
 * @throws Error naming the accepted forms
 */
export function providerOf(url: string): Provider {
  if (url.startsWith('file:')) return 'sqlite';
  if (/^postgres(ql)?:\/\//.test(url)) return 'postgresql';
  throw new Error(`DATABASE_URL must be a SQLite file: URL or a postgresql:// URL, got "${redact(url)}"`);
}

/** The file behind a `file:` SQLite URL, resolved against the working directory. */
export function sqlitePath(url: string): string {
  return path.resolve(url.slice('file:'.length).split('?')[0]!);
}

/** A PostgreSQL URL's parts, and the same server with another database. */
export function postgresTarget(url: string): { database: string; withDatabase(name: string): string } {
  const cfg = parse(url);
  const database = cfg.database ?? cfg.user ?? 'postgres';
  return {
    database,
    withDatabase(name) {
      const u = new URL(url);
      u.pathname = `/${encodeURIComponent(name)}`;
      return u.toString();
    },
  };
}

/** A URL without its password, for messages. */
export function redact(url: string): string {
  return url.replace(/(\/\/[^:/@]*:)[^@]*@/, '$1***@');
}
