import type { Db } from '../../db/client.ts';
import type { TrainSession } from '../../generated/prisma/client.ts';
import { notFound } from '../../errors.ts';
import { stringifyExtendedJson } from '../../lib/extended-json.ts';
import { prepend, type Delivered, type PubSub } from '../../lib/pubsub.ts';
import { PAGE, pageSize } from '../../lib/pagination.ts';
import { parseInput } from '../../lib/validate.ts';
import type { DiagnosticsService } from '../diagnostics/diagnostics.service.ts';
import { toModelView, toSessionView } from '../mappers.ts';
import type { ProjectsService } from '../projects/projects.service.ts';
import type { DiagnosticRunView, ModelView, Page, SessionView, StatusEvent, Topics } from '../views.ts';
import type { SessionRuntime } from './session-runtime.ts';
import { createSessionInput, listSessionsInput, registerModelInput, sessionActionInput, type ListSessionsInput } from './sessions.schemas.ts';
import { applyAction, type SessionAction, type SessionStatus } from './status.ts';

const json = (v: object | null | undefined): string | null => (v ? stringifyExtendedJson(v) : null);

/** Sessions: creation, model registration, status and the actions a person takes. */
export class SessionsService {
  constructor(
    private readonly db: Db,
    private readonly runtime: SessionRuntime,
    private readonly projects: ProjectsService,
    private readonly diagnostics: DiagnosticsService,
    private readonly pubsub: PubSub<Topics>,
  ) {}

  /**
   * Creates a running session in a project; `runId` defaults to `{projectId}_{runName}`.
   * @throws DomainError NOT_FOUND (project), VALIDATION_FAILED
   */
  async create(projectId: number, input: unknown): Promise<SessionView> {
    const s = parseInput(createSessionInput, input ?? {}, 'session');
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
    this.runtime.adopt(row.id, projectId, 'running');
    const view = toSessionView(row);
    this.pubsub.publish('sessionCreated', 0, view);
    return view;
  }

  /** @throws DomainError NOT_FOUND */
  async get(id: number): Promise<SessionView> {
    const row = await this.db.trainSession.findUnique({ where: { id } });
    if (!row) throw notFound('Session', id);
    return toSessionView(row, await this.runtime.cachedStatus(id));
  }

  /**
   * Sessions, newest first, filtered by project and status in the query (so pages are full);
   * `after` is a session id cursor. `running` and `analyzing` select the same sessions: a
   * running session is `analyzing` for the moment its newest steps are judged.
   */
  async list(input: ListSessionsInput): Promise<Page<SessionView>> {
    const q = parseInput(listSessionsInput, input, 'sessions query');
    const take = pageSize(q.first, PAGE.sessions);
    const rows = await this.db.trainSession.findMany({
      where: {
        ...(q.projectId != null ? { projectId: q.projectId } : {}),
        ...(q.after != null ? { id: { lt: q.after } } : {}),
        // `analyzing` is never stored: such sessions are stored as running.
        ...(q.status ? { status: q.status === 'analyzing' ? 'running' : q.status } : {}),
      },
      orderBy: { id: 'desc' },
      take: take + 1,
    });
    const items = await this.withLiveStatus(rows.slice(0, take));
    return { items, nextCursor: rows.length > take ? rows[take - 1]!.id : null };
  }

  private withLiveStatus(rows: TrainSession[]): Promise<SessionView[]> {
    return Promise.all(rows.map(async (r) => toSessionView(r, await this.runtime.cachedStatus(r.id))));
  }

  /** The session's current status. @throws DomainError NOT_FOUND */
  async status(id: number): Promise<SessionStatus> {
    return (await this.runtime.state(id)).status;
  }

  /**
   * Stores (or replaces) the session's model and judges its architecture.
   * @throws DomainError NOT_FOUND, VALIDATION_FAILED
   */
  async registerModel(sessionId: number, input: unknown): Promise<{ model: ModelView; diagnostics: DiagnosticRunView }> {
    const m = parseInput(registerModelInput, input, 'model');
    const state = await this.runtime.state(sessionId);
    const data = { architecture: json(m.architecture), hyperparameters: json(m.hyperparameters) };
    const row = await this.db.model.upsert({ where: { sessionId }, create: { sessionId, ...data }, update: data });
    state.history.model = { architecture: m.architecture ?? null, hyperparameters: m.hyperparameters ?? null };
    const diagnostics = await this.diagnostics.judgeModel(state);
    return { model: toModelView(row), diagnostics };
  }

  async model(sessionId: number): Promise<ModelView | null> {
    const row = await this.db.model.findUnique({ where: { sessionId } });
    return row ? toModelView(row) : null;
  }

  /**
   * Applies a person's decision: `resume` (pending → running), `stop`, `complete`, `fail`.
   * Resuming acknowledges the issues that caused the pause, so they do not pause again
   * while they persist.
   * @throws DomainError NOT_FOUND, VALIDATION_FAILED (unknown action), CONFLICT (not allowed now)
   */
  async act(sessionId: number, action: unknown): Promise<SessionView> {
    const a = parseInput(sessionActionInput, action, 'action') as SessionAction;
    const state = await this.runtime.state(sessionId);
    const to = applyAction(state.status, a);
    if (a === 'resume') for (const k of state.lastIssueKeys) state.acknowledged.add(k);
    await this.runtime.transition(state, to, `action: ${a}`);
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
    return this.withLiveStatus(rows);
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
    const state = await this.runtime.state(sessionId);
    const events = this.pubsub.subscribe('sessionStatus', sessionId);
    const current: Delivered<StatusEvent> = {
      sessionId,
      status: state.status,
      previousStatus: state.status,
      stepIndex: state.history.latestStepIndex,
      run: null,
      reason: 'current',
      at: new Date(),
      missedBefore: 0,
    };
    return prepend(current, events);
  }
}
