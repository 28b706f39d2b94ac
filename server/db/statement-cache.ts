import type BetterSqlite3 from 'better-sqlite3';
import type { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3';

type Database = BetterSqlite3.Database;
type Statement = BetterSqlite3.Statement<unknown[], unknown>;

/** What Prisma's SQLite adapter asks of `prepare(sql)`: `bind(args)` once, then run or read (7.10, dist/index.mjs). */
interface AdapterStatement {
  bind(args: unknown[]): BoundStatement;
  run(): BetterSqlite3.RunResult;
}
interface BoundStatement {
  readonly reader: boolean;
  run(): BetterSqlite3.RunResult;
  columns(): BetterSqlite3.ColumnDefinition[];
  raw(): { all(): unknown[][] };
}

/** Statements kept per connection: the server's queries are a few dozen shapes (multi-row inserts vary by row count). */
const STATEMENT_CACHE_SIZE = 256;

/**
 * Prisma's SQLite adapter prepares every query again (`prepare(sql).bind(args)`), and for
 * the step path's short statements preparing costs more than running: about a tenth of the
 * server's CPU per stored step (profile of 600 REST steps). This keeps the last
 * `capacity` statements of the connection and hands the adapter a view that binds the
 * arguments per call instead of once per statement (better-sqlite3 allows `bind` only once).
 * Calls run to completion synchronously, so a statement is never in use twice at once.
 * `server/db/statement-cache.test.ts` fails if an adapter upgrade changes what it calls.
 */
export function cacheStatements(db: Database, capacity = STATEMENT_CACHE_SIZE): { size(): number; hits(): number } {
  const prepare = db.prepare.bind(db) as (sql: string) => Statement;
  const cache = new Map<string, Statement>();
  let hits = 0;
  const statement = (sql: string): Statement => {
    let stmt = cache.get(sql);
    if (stmt) {
      hits++;
      // Most recently used last: the first key is the one to drop.
      cache.delete(sql);
    } else {
      stmt = prepare(sql);
      if (cache.size >= capacity) cache.delete(cache.keys().next().value!);
    }
    cache.set(sql, stmt);
    return stmt;
  };
  const view = (stmt: Statement): AdapterStatement => ({
    bind: (args) => ({
      reader: stmt.reader,
      run: () => stmt.run(...args),
      columns: () => stmt.columns(),
      raw: () => ({ all: () => stmt.raw(true).all(...args) as unknown[][] }),
    }),
    run: () => stmt.run(),
  });
  (db as unknown as { prepare(sql: string): AdapterStatement }).prepare = (sql) => view(statement(sql));
  return { size: () => cache.size, hits: () => hits };
}

/** The adapter factory, with a statement cache on each connection it opens (the shadow database's too). */
export function withStatementCache(factory: PrismaBetterSqlite3): PrismaBetterSqlite3 {
  const connect = factory.connect.bind(factory);
  factory.connect = async () => {
    const adapter = await connect();
    const client = (adapter as unknown as { client?: Database }).client;
    if (!client || typeof client.prepare !== 'function') throw new Error('@prisma/adapter-better-sqlite3 changed: its adapter has no better-sqlite3 `client` to cache statements on');
    cacheStatements(client);
    return adapter;
  };
  return factory;
}
