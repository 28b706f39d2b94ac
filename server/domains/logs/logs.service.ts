import type { Db } from '../../db/client.ts';
import type { Delivered, PubSub } from '../../lib/pubsub.ts';
import { filterList, PAGE, pageSize } from '../../lib/pagination.ts';
import { toLogView } from '../mappers.ts';
import type { SessionRuntime } from '../sessions/session-runtime.ts';
import type { LogView, Page, Topics } from '../views.ts';
import { ERROR_LEVELS, type LogRecord } from './logs.schemas.ts';

/** Console and error logs of a session. Accepted in any status: a closing client flushes its last lines. */
export class LogsService {
  constructor(
    private readonly db: Db,
    private readonly runtime: SessionRuntime,
    private readonly pubsub: PubSub<Topics>,
  ) {}

  /** One line (the seed's `POST /sessions/{id}/log`). */
  async push(sessionId: number, line: LogRecord): Promise<LogView> {
    const [log] = await this.store(sessionId, [line]);
    return log!;
  }

  /** A batch of lines, stored in one statement. */
  async pushMany(sessionId: number, lines: LogRecord[]): Promise<LogView[]> {
    return this.store(sessionId, lines);
  }

  private async store(sessionId: number, logs: LogRecord[]): Promise<LogView[]> {
    await this.runtime.projectOf(sessionId);
    const data = logs.map((l) => ({ sessionId, ts: l.ts ?? null, level: l.level, msg: l.msg, module: l.module ?? null, lineno: l.lineno ?? null, kind: l.kind }));
    const errors = data.filter((l) => ERROR_LEVELS.has(l.level)).length;
    // Error lines are counted with the session, for the next diagnostic run on any replica.
    const rows = errors
      ? (await this.db.$transaction([
          this.db.sessionLog.createManyAndReturn({ data }),
          this.db.trainSession.update({ where: { id: sessionId }, data: { errorLogs: { increment: errors } }, select: { id: true } }),
        ]))[0]
      : await this.db.sessionLog.createManyAndReturn({ data });
    const views = rows.map(toLogView);
    for (const v of views) this.pubsub.publish('sessionLogs', sessionId, v);
    return views;
  }

  /** Lines of a session by id, oldest first after the cursor, optionally at or above a level. */
  async list(sessionId: number, opts: { first?: number | null; after?: number | null; levels?: string[] | null; last?: number | null }): Promise<Page<LogView>> {
    // Bounded as sent (a level is at most 16 characters before it is upper-cased, as when stored).
    const levels = filterList(opts.levels, 'level', 16)?.map((l) => l.toUpperCase()) ?? null;
    await this.runtime.projectOf(sessionId);
    const where = { sessionId, ...(levels ? { level: { in: levels } } : {}) };
    if (opts.last != null) {
      const rows = await this.db.sessionLog.findMany({ where, orderBy: { id: 'desc' }, take: pageSize(opts.last, PAGE.logs, 'last') });
      return { items: rows.reverse().map(toLogView), nextCursor: null };
    }
    const take = pageSize(opts.first, PAGE.logs);
    const rows = await this.db.sessionLog.findMany({
      where: { ...where, ...(opts.after != null ? { id: { gt: opts.after } } : {}) },
      orderBy: { id: 'asc' },
      take: take + 1,
    });
    const items = rows.slice(0, take).map(toLogView);
    return { items, nextCursor: rows.length > take ? items[items.length - 1]!.id : null };
  }

  /** New log lines of a session as they are stored. @throws DomainError NOT_FOUND */
  async watch(sessionId: number): Promise<AsyncIterableIterator<Delivered<LogView>>> {
    await this.runtime.projectOf(sessionId);
    return this.pubsub.subscribe('sessionLogs', sessionId);
  }
}
