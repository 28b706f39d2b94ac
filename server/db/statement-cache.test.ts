import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { openDatabase } from './client.ts';
import { cacheStatements } from './statement-cache.ts';

describe('the SQLite statement cache', () => {
  it('prepares a statement once and binds each call its own arguments', () => {
    const db = new Database(':memory:');
    db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)');
    const stats = cacheStatements(db, 2);
    const prepare = (sql: string) => (db as unknown as { prepare(sql: string): { bind(a: unknown[]): { reader: boolean; run(): { changes: number }; raw(): { all(): unknown[][] } } } }).prepare(sql);
    for (const [id, v] of [[1, 'a'], [2, 'b'], [3, 'c']] as const) expect(prepare('INSERT INTO t (id, v) VALUES (?, ?)').bind([id, v]).run().changes).toBe(1);
    const read = (id: number) => prepare('SELECT v FROM t WHERE id = ?').bind([id]);
    expect(read(2).reader).toBe(true);
    expect(read(2).raw().all()).toEqual([['b']]);
    expect(read(3).raw().all()).toEqual([['c']]);
    expect(stats.hits()).toBe(4);
    // Least recently used goes first: the insert, after two other shapes.
    prepare('SELECT count(*) FROM t').bind([]).raw().all();
    expect(stats.size()).toBe(2);
    prepare('INSERT INTO t (id, v) VALUES (?, ?)').bind([4, 'd']).run();
    expect(stats.hits()).toBe(4);
  });

  it("answers Prisma's queries, raw and model, inside and outside transactions, as without it", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'observer-stmt-'));
    const { db } = await openDatabase(`file:${path.join(dir, 'a.db')}`);
    try {
      const project = await db.project.create({ data: { name: 'p' } });
      for (let i = 0; i < 3; i++) await db.project.create({ data: { name: `q${i}` } });
      const names = await db.$transaction(async (tx) => {
        await tx.$executeRaw`UPDATE "Project" SET "name" = ${'renamed'} WHERE "id" = ${project.id}`;
        return tx.$queryRaw<{ name: string }[]>`SELECT "name" FROM "Project" WHERE "id" >= ${project.id} ORDER BY "id"`;
      });
      expect(names.map((r) => r.name)).toEqual(['renamed', 'q0', 'q1', 'q2']);
      await expect(db.$transaction(async (tx) => {
        await tx.project.update({ where: { id: project.id }, data: { name: 'rolled back' } });
        throw new Error('no');
      })).rejects.toThrow('no');
      expect((await db.project.findUnique({ where: { id: project.id } }))?.name).toBe('renamed');
      expect(await db.project.count()).toBe(4);
    } finally {
      await db.$disconnect();
    }
  });
});
