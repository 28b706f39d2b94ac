import type { Db } from '../../db/client.ts';
import { isDatabaseUnavailable } from '../../db/unavailable.ts';
import { notFound } from '../../errors.ts';
import { stringifyExtendedJson } from '../../lib/extended-json.ts';
import { prepend, type Delivered, type PubSub } from '../../lib/pubsub.ts';
import { PAGE, pageSize } from '../../lib/pagination.ts';
import type { DiagnosticsService } from '../diagnostics/diagnostics.service.ts';
import { toModelView, toSessionView } from '../mappers.ts';
import type { ProjectsService } from '../projects/projects.service.ts';
import type { DiagnosticRunView, ModelView, Page, SessionView, StatusEvent, Topics } from '../views.ts';
import type { RemediesService } from '../remedies/remedies.service.ts';
import { writeKeys, type SessionRecord, type SessionRuntime } from './session-runtime.ts';
import type { CreateSessionInput, ListSessionsInput, RegisterModelInput, SessionActionRequest } from './sessions.schemas.ts';
import { applyAction, type SessionStatus } from './status.ts';

const json = (v: object | null | undefined): string | null => (v ? stringifyExtendedJson(v) : null);

/** Sessions: creation, model registration, status and the actions a person takes. */
export class SessionsService {
  constructor(
    private readonly db: Db,
    private readonly runtime: SessionRuntime,
    private readonly projects: ProjectsService,
    private readonly diagnostics: DiagnosticsService,
    private readonly pubsub: PubSub<Topics>,
    private readonly remedies: RemediesService,
    reportError: (err: unknown, context: string) => void = () => {},
  ) {
    // Status changes may have been lost while Redis was away: each subscriber gets the stored status
    // (dropped by its subscription unless newer than the last it received).
    pubsub.onGap('sessionStatus', (id) =>
      void this.currentStatus(Number(id)).then(
        (e) => pubsub.deliverHere('sessionStatus', id, { ...e, reason: 'resync' }),
        // The database may be down as well: the subscriber then hears the next change.
        (err) => isDatabaseUnavailable(err) || reportError(err, `status resync of session ${id}`),
      ),
    );
  }

  /** The stored status as a status event (what a new subscriber starts with). */
  private async currentStatus(sessionId: number): Promise<StatusEvent> {
    const r = await this.runtime.read(sessionId);
    // A subscriber that missed the resume still gets its remedies while that resume is the latest change.
    const remedies = r.status === 'running' ? await this.remedies.atVersion(sessionId, r.statusVersion) : null;
    return {
      remedies,
      sessionId,
      status: r.status,
      previousStatus: r.status,
      version: r.statusVersion,
      stepIndex: await this.runtime.latestStepIndex(sessionId),
      run: null,
      reason: 'current',
      at: new Date(),
    };
  }

  /**
   * Creates a running session in a project; `runId` defaults to `{projectId}_{runName}`.
   * @throws DomainError NOT_FOUND (project), VALIDATION_FAILED
   */
  async create(projectId: number, s: CreateSessionInput): Promise<SessionView> {
    await this.projects.get(projectId);
    const row = await this.db.trainSession.create({
      data: {
        projectId,
        runId: s.runId ?? `${projectId}_${s.runName ?? 'run'}`,
        runName: s.runName ?? null,
        startedAt: s.startedAt ? new Date(s.startedAt) : new Date(),
        device: s.device ?? null,
        cudaAvailable: s.cudaAvailable ?? null,
        pytorchVersion: s.pytorchVersion ?? null,
        config: json(s.config),
        metadata: json(s.metadata),
        status: 'running',
      },
    });
    this.runtime.remember(row.id, projectId);
    const view = toSessionView(row);
    this.pubsub.publish('sessionCreated', 0, view);
    return view;
  }

  /** @throws DomainError NOT_FOUND */
  async get(id: number): Promise<SessionView> {
    const row = await this.db.trainSession.findUnique({ where: { id } });
    if (!row) throw notFound('Session', id);
    this.runtime.remember(id, row.projectId);
    return toSessionView(row);
  }

  /**
   * Sessions, newest first, filtered by project and status in the query (so pages are full);
   * `after` is a session id cursor. `running` also selects sessions `analyzing`: a running
   * session is `analyzing` for the moment its newest steps are judged.
   */
  async list(q: ListSessionsInput): Promise<Page<SessionView>> {
    const take = pageSize(q.first, PAGE.sessions);
    const rows = await this.db.trainSession.findMany({
      where: {
        ...(q.projectId != null ? { projectId: q.projectId } : {}),
        ...(q.after != null ? { id: { lt: q.after } } : {}),
        ...(q.status ? { status: q.status === 'running' ? { in: ['running', 'analyzing'] } : q.status } : {}),
      },
      orderBy: { id: 'desc' },
      take: take + 1,
    });
    return { items: rows.slice(0, take).map(toSessionView), nextCursor: rows.length > take ? rows[take - 1]!.id : null };
  }

  /** The session's current status. @throws DomainError NOT_FOUND */
  async status(id: number): Promise<SessionStatus> {
    return (await this.runtime.read(id)).status;
  }

  /**
   * Stores (or replaces) the session's model and judges its architecture.
   * @throws DomainError NOT_FOUND, VALIDATION_FAILED
   */
  async registerModel(sessionId: number, m: RegisterModelInput): Promise<{ model: ModelView; diagnostics: DiagnosticRunView }> {
    await this.runtime.projectOf(sessionId);
    const data = { architecture: json(m.architecture), hyperparameters: json(m.hyperparameters) };
    const [row] = await this.db.$transaction([
      this.db.model.upsert({ where: { sessionId }, create: { sessionId, ...data }, update: data }),
      // Every replica's cached history re-reads the model when this changes.
      this.db.trainSession.update({ where: { id: sessionId }, data: { modelRevision: { increment: 1 } } }),
    ]);
    const diagnostics = await this.diagnostics.judgeModel(sessionId);
    return { model: toModelView(row), diagnostics };
  }

  async model(sessionId: number): Promise<ModelView | null> {
    const row = await this.db.model.findUnique({ where: { sessionId } });
    return row ? toModelView(row) : null;
  }

  /**
   * Applies a person's decision: `resume` (pending → running), `stop`, `complete`, `fail`.
   * Resuming acknowledges the issues that caused the pause, so they do not pause again
   * while they persist. A resume may carry remedies (issue 15): they are stored with who chose
   * them, at which step and past which issues, in the transaction of the status change (both or
   * neither), and its status event carries them to the observer.
   * (`parseAction` checked the action and remedies.)
   * @throws DomainError NOT_FOUND, CONFLICT (not allowed now)
   */
  async act(sessionId: number, { action: a, remedies, source }: SessionActionRequest, chosenBy = 'open'): Promise<SessionView> {
    const decide = (r: SessionRecord) => ({
      to: applyAction(r.status, a),
      // Resuming acknowledges the issues that caused the pause.
      ...(a === 'resume' ? { data: { acknowledged: writeKeys(new Set([...r.acknowledged, ...r.lastIssueKeys])) } } : {}),
    });
    if (!remedies.length) {
      await this.runtime.transition(sessionId, decide, `action: ${a}`);
      return this.get(sessionId);
    }
    await this.runtime.projectOf(sessionId);
    const [chosen, stepIndex] = await Promise.all([this.remedies.complete(sessionId, remedies), this.runtime.latestStepIndex(sessionId)]);
    await this.runtime.transition(sessionId, decide, `action: ${a}`, {
      stepIndex,
      write: async (tx, from, statusVersion) => ({
        remedies: await this.remedies.insertIn(tx, { sessionId, statusVersion, stepIndex, remedies: chosen, chosenBy, source, issueKeys: from.lastIssueKeys }),
      }),
    });
    return this.get(sessionId);
  }

  /** Sessions of a project, newest first, before the session id `after`: at most `first` (1,000 by default and at most). */
  async ofProject(projectId: number, opts: { first?: number | null; after?: number | null } = {}): Promise<SessionView[]> {
    const take = pageSize(opts.first, PAGE.projectSessions);
    const rows = await this.db.trainSession.findMany({
      where: { projectId, ...(opts.after != null ? { id: { lt: opts.after } } : {}) },
      orderBy: { id: 'desc' },
      take,
    });
    return rows.map(toSessionView);
  }

  /** Every session created from now on, of any project (dashboards list them live). */
  watchCreated(): AsyncIterableIterator<Delivered<SessionView>> {
    return this.pubsub.subscribe('sessionCreated', 0);
  }

  /**
   * Status changes of a session, starting with its current status (so a late subscriber
   * knows where things stand). @throws DomainError NOT_FOUND
   */
  async watchStatus(sessionId: number): Promise<AsyncIterableIterator<Delivered<StatusEvent>>> {
    const events = this.pubsub.subscribe('sessionStatus', sessionId);
    let current: Delivered<StatusEvent>;
    try {
      current = { ...(await this.currentStatus(sessionId)), missedBefore: 0 };
    } catch (err) {
      void events.return?.();
      throw err;
    }
    return newerOnly(prepend(current, events));
  }
}

/**
 * Drops status events not newer than the last one delivered: replicas publish through Redis
 * concurrently, so an older change can arrive after a newer one (and after the current status).
 * A plain iterator, not an async generator, so that `return()` ends a pending `next()` at once.
 */
function newerOnly(events: AsyncIterableIterator<Delivered<StatusEvent>>): AsyncIterableIterator<Delivered<StatusEvent>> {
  let last = -1;
  let missed = 0;
  const it: AsyncIterableIterator<Delivered<StatusEvent>> = {
    async next() {
      for (;;) {
        const r = await events.next();
        if (r.done) return r;
        const e = r.value;
        if (e.version <= last) {
          missed += e.missedBefore;
          continue;
        }
        last = e.version;
        const value = missed ? { ...e, missedBefore: e.missedBefore + missed } : e;
        missed = 0;
        return { value, done: false };
      }
    },
    return: () => events.return?.() ?? Promise.resolve({ value: undefined, done: true }),
    [Symbol.asyncIterator]: () => it,
  };
  return it;
}
