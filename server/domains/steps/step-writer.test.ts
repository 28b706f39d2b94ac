import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freshPostgresDatabase } from '../../../test/helpers/postgres.ts';
import { openDatabase, type OpenDatabase } from '../../db/client.ts';
import { StepWriter, type StepRow, type WriteOutcome } from './step-writer.ts';

const row = (sessionId: number, stepIndex: number, loss = '{"train_mean": 1}'): StepRow => ({
  sessionId,
  stepIndex,
  timestamp: null,
  durationSeconds: null,
  loss,
  throughput: null,
  profiler: null,
  memory: null,
  system: null,
  layerHealth: null,
  sustainability: null,
  carbonEmissions: null,
  extra: null,
  createdAt: new Date('2026-12-02T12:00:00.000Z'),
  seq: 0,
});

const drops: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const d of drops) await d();
});

/** The two ways a batch is written: SQLite's transaction, PostgreSQL's one statement. */
const databases: [string, () => Promise<OpenDatabase>][] = [
  ['SQLite (a transaction)', () => openDatabase(`file:${path.join(mkdtempSync(path.join(tmpdir(), 'observer-writer-')), 'a.db')}`)],
  [
    'PostgreSQL (one statement)',
    async () => {
      const pg = await freshPostgresDatabase();
      const open = await openDatabase(pg.url);
      drops.push(async () => {
        await open.db.$disconnect();
        await pg.drop();
      });
      return open;
    },
  ],
];

describe.each(databases)('the step writer on %s', (_name, open) => {
  async function setup(statuses: string[]) {
    const o = await open();
    const project = await o.db.project.create({ data: { name: 'p' } });
    const ids: number[] = [];
    for (const status of statuses) ids.push((await o.db.trainSession.create({ data: { projectId: project.id, runId: status, status } })).id);
    const writer = () => new StepWriter(o.db, o.text, o.writableCte);
    return { ...o, ids, writer };
  }

  it('admits a batch per session, numbers its rows in request order, starts the analysis once, and stores a repeated index once', async () => {
    const { db, ids, writer } = await setup(['running', 'stopped', 'paused']);
    const [running, stopped, paused] = ids as [number, number, number];
    const w = writer();
    // Submitted in one turn of the event loop: one batch.
    const out = await Promise.all([
      w.insert([row(running, 0), row(running, 1)]),
      w.insert([row(stopped, 0)]),
      w.insert([row(running, 1), row(running, 2)]),
      w.insert([row(paused, 7, 'with \u0000 NUL and "quotes"')]),
    ]);
    const [a, b, c, d] = out as [WriteOutcome, WriteOutcome, WriteOutcome, WriteOutcome];
    expect(a).toMatchObject({ accepted: true, status: 'analyzing', statusVersion: 1, startedAnalyzing: true, firstSeq: 1, lastSeq: 2 });
    expect(b).toEqual({ accepted: false });
    expect(c).toMatchObject({ accepted: true, status: 'analyzing', statusVersion: 1, startedAnalyzing: false, firstSeq: 3, lastSeq: 4 });
    expect(d).toMatchObject({ accepted: true, status: 'paused', statusVersion: 0, startedAnalyzing: false, firstSeq: 1, lastSeq: 1 });
    if (!a.accepted || !c.accepted || !d.accepted) throw new Error('unreachable');
    expect(a.rows.map((r) => [r.stepIndex, r.created, r.seq])).toEqual([[0, true, 1], [1, true, 2]]);
    expect(c.rows.map((r) => [r.stepIndex, r.created, r.seq])).toEqual([[1, false, 3], [2, true, 4]]);
    expect(c.rows[0]!.id).toBeNull();

    const sessions = await db.trainSession.findMany({ orderBy: { id: 'asc' }, select: { status: true, statusVersion: true, stepSeq: true } });
    expect(sessions).toEqual([
      { status: 'analyzing', statusVersion: 1, stepSeq: 4 },
      { status: 'stopped', statusVersion: 0, stepSeq: 0 },
      { status: 'paused', statusVersion: 0, stepSeq: 1 },
    ]);
    const steps = await db.trainStep.findMany({ orderBy: [{ sessionId: 'asc' }, { seq: 'asc' }], select: { id: true, sessionId: true, stepIndex: true, seq: true, loss: true, createdAt: true } });
    expect(steps.map((s) => [s.sessionId, s.stepIndex, s.seq])).toEqual([[running, 0, 1], [running, 1, 2], [running, 2, 4], [paused, 7, 1]]);
    expect(steps.map((s) => s.id).sort()).toEqual([...a.rows, ...c.rows, ...d.rows].flatMap((r) => (r.id === null ? [] : [r.id])).sort());
    // Strings and dates read back as written (PostgreSQL stores NUL escaped).
    expect(steps[3]!.loss).toBe('with \u0000 NUL and "quotes"');
    expect(steps[0]!.createdAt.toISOString()).toBe('2026-12-02T12:00:00.000Z');
  });

  it('gives concurrent writers (replicas) distinct, gapless sequence numbers and starts the analysis exactly once', async () => {
    const { db, ids, writer } = await setup(['running']);
    const [session] = ids as [number];
    // Each writer is its own batcher and, on PostgreSQL, its own statements: like replicas.
    const writers = Array.from({ length: 8 }, writer);
    const out = await Promise.all(writers.flatMap((w, k) => [0, 1, 2].map((j) => w.insert([row(session, k * 10 + j)]))));
    const accepted = out.filter((o): o is Extract<WriteOutcome, { accepted: true }> => o.accepted);
    expect(accepted).toHaveLength(24);
    expect(accepted.map((o) => o.firstSeq).sort((x, y) => x - y)).toEqual(Array.from({ length: 24 }, (_, i) => i + 1));
    expect(accepted.filter((o) => o.startedAnalyzing)).toHaveLength(1);
    expect(await db.trainSession.findUniqueOrThrow({ where: { id: session }, select: { status: true, statusVersion: true, stepSeq: true } })).toEqual({ status: 'analyzing', statusVersion: 1, stepSeq: 24 });
    expect(await db.trainStep.count({ where: { sessionId: session } })).toBe(24);
  });
});
