import { TX_OPTIONS, type Db } from '../../db/client.ts';
import { EARLY_WINDOW, HISTORY_WINDOW, SessionHistory } from '../../diagnostics/history.ts';
import type { DiagnosticContext } from '../../diagnostics/types.ts';
import { DomainError, ErrorCode, notFound } from '../../errors.ts';
import type { Prisma, TrainSession } from '../../generated/prisma/client.ts';
import type { PubSub } from '../../lib/pubsub.ts';
import { ERROR_LEVELS } from '../logs/logs.schemas.ts';
import { readObject, toStepRecord, toStepView } from '../mappers.ts';
import type { DiagnosticRunView, StatusEvent, StepView, Topics } from '../views.ts';
import { isTerminal, type SessionStatus } from './status.ts';

/**
 * What the status machine knows of a session, read from the database: the one source of
 * truth that every replica shares. A replica's memory holds only caches it can drop.
 */
export interface SessionRecord {
  id: number;
  projectId: number;
  status: SessionStatus;
  /** Bumped by every status change; status events carry it. */
  statusVersion: number;
  /** Issue keys a person resumed past (they do not pause again while they persist). */
  acknowledged: string[];
  /** Issue keys of the latest diagnostic run (what a resume acknowledges). */
  lastIssueKeys: string[];
  /** Sequence numbers reserved for steps so far, and how far diagnostics have judged. */
  stepSeq: number;
  judgedSeq: number;
  errorLogs: number;
  judgedErrorLogs: number;
  modelRevision: number;
  bestLoss: { value: number; stepIndex: number } | null;
  /** The replica judging the session now (null when none), until when (epoch ms). */
  judgeOwner: string | null;
  judgeUntil: number | null;
}

/** The columns of `TrainSession` the status machine reads (for raw `RETURNING` lists too). */
export const RECORD_COLUMNS = [
  'id', 'projectId', 'status', 'statusVersion', 'acknowledged', 'lastIssueKeys', 'stepSeq', 'judgedSeq',
  'errorLogs', 'judgedErrorLogs', 'modelRevision', 'bestLoss', 'bestLossStep', 'judgeOwner', 'judgeUntil',
] as const satisfies readonly (keyof TrainSession)[];

/** A row with those columns; integers may come back as bigint from a raw query. */
export type RecordRow = { [K in (typeof RECORD_COLUMNS)[number]]: TrainSession[K] extends number ? number | bigint : TrainSession[K] extends number | null ? number | bigint | null : TrainSession[K] };

const num = (v: number | bigint): number => Number(v);

export const toRecord = (r: RecordRow): SessionRecord => ({
  id: num(r.id),
  projectId: num(r.projectId),
  status: r.status as SessionStatus,
  statusVersion: num(r.statusVersion),
  acknowledged: readKeys(r.acknowledged),
  lastIssueKeys: readKeys(r.lastIssueKeys),
  stepSeq: num(r.stepSeq),
  judgedSeq: num(r.judgedSeq),
  errorLogs: num(r.errorLogs),
  judgedErrorLogs: num(r.judgedErrorLogs),
  modelRevision: num(r.modelRevision),
  bestLoss: r.bestLoss !== null && r.bestLossStep !== null ? { value: num(r.bestLoss), stepIndex: num(r.bestLossStep) } : null,
  judgeOwner: r.judgeOwner,
  judgeUntil: r.judgeUntil === null ? null : num(r.judgeUntil),
});

function readKeys(text: string | null): string[] {
  if (!text) return [];
  const v: unknown = JSON.parse(text);
  return Array.isArray(v) ? v.filter((k): k is string => typeof k === 'string') : [];
}

export const writeKeys = (keys: Iterable<string>): string => JSON.stringify([...keys].sort());

/** A status change a caller decided on, from the record it saw. */
interface Change {
  to: SessionStatus;
  /** Other columns written in the same conditional update (e.g. `acknowledged`). */
  data?: { acknowledged?: string; lastIssueKeys?: string };
}

/**
 * Rows a transition writes in the transaction of its status change (`from`: the record it
 * changed, `version`: the new status version); what it returns is added to the status event.
 */
type AlsoWrite = (tx: Prisma.TransactionClient, from: SessionRecord, version: number) => Promise<Partial<StatusEvent>>;

/** A session's diagnostic history as this replica caches it, synced from the database by sequence number. */
interface CachedHistory {
  history: SessionHistory;
  /** Every step with a sequence number up to this one is in `history`. */
  seq: number;
  /** Sequence numbers of cached steps no run committed by this replica has judged yet. */
  unjudged: Set<number>;
  modelRevision: number;
  errorLogs: number;
  recentErrors: string[];
  /** Serialises syncs of this entry within the process. */
  lock: Promise<unknown>;
}

/** A diagnostic context synced to the database, and how far it reaches. */
interface SyncedContext {
  ctx: DiagnosticContext;
  /** The highest step sequence number the context holds (what a run judged). */
  seq: number;
  latestStepIndex: number | null;
  bestLoss: { value: number; stepIndex: number } | null;
}

const MAX_CACHED = 2000;
/** Attempts at a conditional status update before giving up (each failure means another writer moved first). */
const MAX_ATTEMPTS = 50;

/**
 * The session status machine over the database, and this replica's caches: which sessions
 * exist (sessions are never deleted, so that one cannot go stale) and each session's recent
 * history for diagnostics, refreshed by reading only the steps it lacks.
 */
export class SessionRuntime {
  private readonly projects = new Map<number, number>();
  private readonly histories = new Map<number, CachedHistory>();

  constructor(
    private readonly db: Db,
    private readonly pubsub: PubSub<Topics>,
  ) {}

  /** The session's project, from memory after the first time. @throws DomainError NOT_FOUND */
  async projectOf(id: number): Promise<number> {
    const known = this.projects.get(id);
    if (known !== undefined) return known;
    const row = await this.db.trainSession.findUnique({ where: { id }, select: { projectId: true } });
    if (!row) throw notFound('Session', id);
    this.remember(id, row.projectId);
    return row.projectId;
  }

  /** The session's status-machine record, read from the database. @throws DomainError NOT_FOUND */
  async read(id: number): Promise<SessionRecord> {
    const row = await this.db.trainSession.findUnique({ where: { id } });
    if (!row) throw notFound('Session', id);
    this.remember(id, row.projectId);
    return toRecord(row);
  }

  /** Registers a session just created. */
  remember(id: number, projectId: number): void {
    if (this.projects.has(id)) return;
    this.projects.set(id, projectId);
    if (this.projects.size > MAX_CACHED * 10) this.projects.delete(this.projects.keys().next().value!);
  }

  /**
   * Moves a session by a conditional update on its status version: `decide` sees the stored
   * record and returns the change (or null for none, or throws, e.g. CONFLICT). When another
   * writer moved first, the record is read again and `decide` asked again, so two replicas
   * never overwrite each other's transition. Publishes the change with its new version.
   */
  async transition(
    id: number,
    decide: (r: SessionRecord) => Change | null,
    reason: string,
    extra: { stepIndex?: number | null; run?: DiagnosticRunView | null; write?: AlsoWrite } = {},
  ): Promise<SessionRecord> {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const r = await this.read(id);
      const change = decide(r);
      if (!change || change.to === r.status) return r;
      const update = (client: Pick<Db, 'trainSession'>) =>
        client.trainSession.updateMany({
          where: { id, statusVersion: r.statusVersion },
          data: { ...change.data, status: change.to, statusVersion: { increment: 1 }, ...(isTerminal(change.to) ? { endedAt: new Date() } : {}) },
        });
      const write = extra.write;
      // With rows to write beside the change, both commit or neither (the same compare-and-set inside).
      const also = write
        ? await this.db.$transaction(async (tx) => ((await update(tx)).count === 0 ? null : write(tx, r, r.statusVersion + 1)), TX_OPTIONS)
        : (await update(this.db)).count === 0 ? null : {};
      if (also === null) continue;
      const stepIndex = extra.stepIndex !== undefined ? extra.stepIndex : await this.latestStepIndex(id);
      this.publishStatus({ sessionId: id, status: change.to, previousStatus: r.status, version: r.statusVersion + 1, stepIndex, run: extra.run ?? null, reason, at: new Date(), ...also });
      return { ...r, status: change.to, statusVersion: r.statusVersion + 1 };
    }
    throw new DomainError(ErrorCode.CONFLICT, `The status of session ${id} kept changing; try again`, { sessionId: id });
  }

  /** Publishes a status change that was committed (by a transition or a diagnostic run). */
  publishStatus(event: StatusEvent): void {
    this.pubsub.publish('sessionStatus', event.sessionId, event);
  }

  /** The newest step index of a session, from the cache when it holds the session, else one indexed read. */
  async latestStepIndex(id: number): Promise<number | null> {
    const cached = this.histories.get(id);
    if (cached) return cached.history.latestStepIndex;
    const row = await this.db.trainStep.findFirst({ where: { sessionId: id }, orderBy: { stepIndex: 'desc' }, select: { stepIndex: true } });
    return row?.stepIndex ?? null;
  }

  /**
   * The session's diagnostic context as of the record (or newer): the cached history plus
   * the steps stored since (by any replica), read by sequence number; the whole window again
   * only when the cache is missing or too far behind. Steps not yet judged (`record.judgedSeq`)
   * count as new.
   */
  context(r: SessionRecord): Promise<SyncedContext> {
    let entry = this.histories.get(r.id);
    if (entry) {
      this.histories.delete(r.id);
      this.histories.set(r.id, entry);
    } else {
      entry = { history: new SessionHistory(), seq: -1, unjudged: new Set(), modelRevision: -1, errorLogs: -1, recentErrors: [], lock: Promise.resolve() };
      this.histories.set(r.id, entry);
      if (this.histories.size > MAX_CACHED) this.histories.delete(this.histories.keys().next().value!);
    }
    const e = entry;
    const run = e.lock.then(() => this.sync(e, r));
    e.lock = run.catch(() => {});
    return run;
  }

  /**
   * Steps this replica just stored, with the sequence numbers reserved for them (`first` to
   * `last`; a number whose row was a duplicate has no row): added to the cached history when it
   * holds every step before them, so judging them reads nothing back.
   */
  offer(sessionId: number, first: number, last: number, steps: { seq: number; step: StepView }[]): void {
    const e = this.histories.get(sessionId);
    if (!e) return;
    e.lock = e.lock.then(() => {
      if (e.seq !== first - 1) return;
      for (const { seq, step } of steps) {
        e.history.add(toStepRecord(step));
        e.unjudged.add(seq);
      }
      e.seq = last;
      // A replica that never judges this session keeps no unbounded list: the entry is rebuilt when needed.
      if (e.unjudged.size > HISTORY_WINDOW) e.seq = -1;
    });
  }

  /** A run judged every cached step up to `seq` (its outcome committed). */
  judged(sessionId: number, seq: number): void {
    const e = this.histories.get(sessionId);
    if (e) for (const s of e.unjudged) if (s <= seq) e.unjudged.delete(s);
  }

  private async sync(e: CachedHistory, r: SessionRecord): Promise<SyncedContext> {
    // Missing, or too far behind to catch up by reading what it lacks: the window is read again.
    if (e.seq < 0 || r.stepSeq - e.seq > HISTORY_WINDOW) {
      await this.reload(e, r);
    } else {
      const rows = await this.db.trainStep.findMany({ where: { sessionId: r.id, seq: { gt: e.seq } }, orderBy: { seq: 'asc' } });
      for (const row of rows) {
        e.history.add(toStepRecord(toStepView(row)));
        e.seq = Math.max(e.seq, row.seq);
        e.unjudged.add(row.seq);
      }
      // Every number reserved up to the record's committed with its rows (or stood for a duplicate).
      e.seq = Math.max(e.seq, r.stepSeq);
    }
    // What another replica judged meanwhile is not new here.
    for (const seq of e.unjudged) if (seq <= r.judgedSeq) e.unjudged.delete(seq);
    const unjudged = e.unjudged.size;
    if (e.modelRevision !== r.modelRevision) {
      const model = await this.db.model.findUnique({ where: { sessionId: r.id } });
      e.history.model = model ? { architecture: readObject(model.architecture), hyperparameters: readObject(model.hyperparameters) } : null;
      e.modelRevision = r.modelRevision;
    }
    if (e.errorLogs !== r.errorLogs) {
      const lines = await this.db.sessionLog.findMany({
        where: { sessionId: r.id, level: { in: [...ERROR_LEVELS] } },
        orderBy: { id: 'desc' },
        take: 5,
        select: { msg: true },
      });
      e.recentErrors = lines.reverse().map((l) => l.msg);
      e.errorLogs = r.errorLogs;
    }
    e.history.rememberBest(r.bestLoss);
    e.history.setUnjudged(unjudged, { total: r.errorLogs, sinceLastRun: Math.max(0, r.errorLogs - r.judgedErrorLogs), recentMessages: e.recentErrors });
    return { ctx: e.history.takeContext(), seq: Math.max(e.seq, 0), latestStepIndex: e.history.latestStepIndex, bestLoss: e.history.bestLoss };
  }

  /** Reads the session's first and latest steps (bounded), replacing the cached history. */
  private async reload(e: CachedHistory, r: SessionRecord): Promise<void> {
    const fresh = new SessionHistory();
    const [recent, early, count] = await Promise.all([
      this.db.trainStep.findMany({ where: { sessionId: r.id }, orderBy: { stepIndex: 'desc' }, take: HISTORY_WINDOW }),
      this.db.trainStep.findMany({ where: { sessionId: r.id }, orderBy: { stepIndex: 'asc' }, take: EARLY_WINDOW }),
      this.db.trainStep.count({ where: { sessionId: r.id } }),
    ]);
    const seen = new Set<number>();
    const unjudged = new Set<number>();
    let seq = 0;
    for (const row of [...early, ...recent.reverse()]) {
      if (seen.has(row.stepIndex)) continue;
      seen.add(row.stepIndex);
      fresh.add(toStepRecord(toStepView(row)));
      seq = Math.max(seq, row.seq);
      if (row.seq > r.judgedSeq) unjudged.add(row.seq);
    }
    fresh.restore(count);
    // The reads come after the record's: every step numbered up to `r.stepSeq` is in them or older than the window.
    Object.assign(e, { history: fresh, seq: Math.max(seq, r.stepSeq), unjudged, modelRevision: -1, errorLogs: -1 });
  }
}
