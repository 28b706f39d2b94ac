import type { Db } from '../../db/client.ts';
import { HISTORY_WINDOW, EARLY_WINDOW, SessionHistory } from '../../diagnostics/history.ts';
import { notFound } from '../../errors.ts';
import type { PubSub } from '../../lib/pubsub.ts';
import { readObject, toStepRecord, toStepView } from '../mappers.ts';
import type { DiagnosticRunView, Topics } from '../views.ts';
import { isTerminal, type SessionStatus } from './status.ts';

/** What the server keeps in memory about a live session. */
export interface SessionState {
  readonly id: number;
  readonly projectId: number;
  /** The authoritative status; `analyzing` lives only here, the others are also stored. */
  status: SessionStatus;
  /** The status last written to the database. */
  storedStatus: SessionStatus;
  readonly history: SessionHistory;
  /** Issues (rule@layer) the user resumed past; they do not pause again while they persist. */
  readonly acknowledged: Set<string>;
  /** Issues of the latest diagnostic run. */
  lastIssueKeys: Set<string>;
  /** A diagnostic run is in flight, and whether steps arrived during it. */
  diagnosing: boolean;
  rerun: boolean;
}

const MAX_CACHED = 2000;

/**
 * Session states in memory, loaded once per session from the database, and the one place
 * that changes a session's status (storing and publishing it).
 */
export class SessionRuntime {
  private readonly states = new Map<number, Promise<SessionState>>();

  constructor(
    private readonly db: Db,
    private readonly pubsub: PubSub<Topics>,
  ) {}

  /**
   * The state of a session, loading it (and its recent history) on first use.
   * @throws DomainError NOT_FOUND
   */
  state(id: number): Promise<SessionState> {
    const cached = this.states.get(id);
    if (cached) {
      this.states.delete(id);
      this.states.set(id, cached);
      return cached;
    }
    const loading = this.load(id);
    this.states.set(id, loading);
    loading.catch(() => this.states.delete(id));
    this.evict();
    return loading;
  }

  /** The in-memory status when the session is loaded; undefined otherwise. */
  async cachedStatus(id: number): Promise<SessionStatus | undefined> {
    const s = this.states.get(id);
    return s ? (await s).status : undefined;
  }

  /** Registers a session just created (no need to read it back). */
  adopt(id: number, projectId: number, status: SessionStatus): SessionState {
    const state = newState(id, projectId, status);
    this.states.set(id, Promise.resolve(state));
    this.evict();
    return state;
  }

  private evict(): void {
    if (this.states.size <= MAX_CACHED) return;
    for (const [id] of this.states) {
      this.states.delete(id);
      if (this.states.size <= MAX_CACHED) break;
    }
  }

  private async load(id: number): Promise<SessionState> {
    const row = await this.db.trainSession.findUnique({ where: { id }, include: { model: true } });
    if (!row) throw notFound('Session', id);
    // A crash can leave no trace of `analyzing` (never stored); the next step re-runs diagnostics.
    const state = newState(row.id, row.projectId, row.status as SessionStatus);
    const [recent, early, count] = await Promise.all([
      this.db.trainStep.findMany({ where: { sessionId: id }, orderBy: { stepIndex: 'desc' }, take: HISTORY_WINDOW }),
      this.db.trainStep.findMany({ where: { sessionId: id }, orderBy: { stepIndex: 'asc' }, take: EARLY_WINDOW }),
      this.db.trainStep.count({ where: { sessionId: id } }),
    ]);
    const seen = new Set<number>();
    for (const r of [...early, ...recent.reverse()]) {
      if (seen.has(r.stepIndex)) continue;
      seen.add(r.stepIndex);
      state.history.add(toStepRecord(toStepView(r)));
    }
    state.history.restore(count);
    if (row.model) state.history.model = { architecture: readObject(row.model.architecture), hyperparameters: readObject(row.model.hyperparameters) };
    return state;
  }

  /**
   * Moves a session to `to`: in memory at once, in the database when the status is one
   * that outlives the process, and to `sessionStatus` subscribers.
   */
  async transition(
    state: SessionState,
    to: SessionStatus,
    reason: string,
    extra: { stepIndex?: number | null; run?: DiagnosticRunView | null } = {},
  ): Promise<void> {
    const previousStatus = state.status;
    if (previousStatus === to) return;
    state.status = to;
    if (to !== 'analyzing' && to !== state.storedStatus) {
      const stored = to;
      state.storedStatus = stored;
      await this.db.trainSession.update({
        where: { id: state.id },
        data: { status: stored, ...(isTerminal(stored) ? { endedAt: new Date() } : {}) },
      });
    }
    this.pubsub.publish('sessionStatus', state.id, {
      sessionId: state.id,
      status: to,
      previousStatus,
      stepIndex: extra.stepIndex ?? state.history.latestStepIndex,
      run: extra.run ?? null,
      reason,
      at: new Date(),
    });
  }
}

function newState(id: number, projectId: number, status: SessionStatus): SessionState {
  // `analyzing` is never stored, but a database from elsewhere may hold it.
  const live = status === 'analyzing' ? 'running' : status;
  return {
    id,
    projectId,
    status: live,
    storedStatus: status,
    history: new SessionHistory(),
    acknowledged: new Set(),
    lastIssueKeys: new Set(),
    diagnosing: false,
    rerun: false,
  };
}
