import { DomainError, ErrorCode, notFound } from '../errors.ts';
import type { Principal } from './principal.ts';

/** What an operation needs: to read a project, to write into it, or an administrator. */
export type Need = 'read' | 'write' | 'admin';

/**
 * What an operation touches, named by the argument (GraphQL) or path parameter (REST) that
 * holds the id:
 * - `project` / `session`: one project, or the project of one session;
 * - `global`: no project (creating projects, managing keys: `admin` only);
 * - `projectList`: the answer is a page of projects (`id`, oldest first), kept to those the
 *   key opens: its cursor (`after`) and size (`first`) arguments are narrowed so that the one
 *   project a key opens is in the page whenever it is past the cursor;
 * - `sessionList`: sessions of the project in `arg` (optional), narrowed to the key's project;
 * - `sessionStream`: a stream of new sessions (`projectId`), kept to those the key opens.
 */
export type Target =
  | { project: string }
  | { session: string }
  | { global: true }
  | { projectList: { after: string; first: string } }
  | { sessionList: string }
  | { sessionStream: true };

/** An access rule: one per REST route and per GraphQL root field (`rules.ts`). */
export interface Rule {
  need: Need;
  on: Target;
}

/** Finds which project a session belongs to (a cache in front of the database). @throws DomainError NOT_FOUND */
interface ProjectOf {
  projectOf(sessionId: number): Promise<number>;
}

/** The error of a request without a usable credential (401 over HTTP, `UNAUTHENTICATED` in GraphQL). */
export const unauthenticated = (reason = 'Authentication required: send an API key (Authorization: Bearer <key>)') =>
  new DomainError(ErrorCode.UNAUTHENTICATED, reason);

const forbidden = (message: string) => new DomainError(ErrorCode.FORBIDDEN, message);

/** The scheme and realm a 401 announces. */
export const WWW_AUTHENTICATE = 'Bearer realm="observer", Basic realm="observer"';

/**
 * The one place where access is decided, for REST and GraphQL alike: `run` checks the rule
 * against the principal, narrows the arguments and filters the answer, then calls the
 * operation. A key for project A meets project B's ids as if they did not exist (the same
 * NOT_FOUND as an absent id), so a key cannot probe what other projects hold.
 */
export class AccessGuard {
  constructor(private readonly sessions: ProjectOf) {}

  /**
   * Runs `operation` with the (possibly narrowed) arguments if the principal may.
   * @throws DomainError UNAUTHENTICATED, FORBIDDEN, NOT_FOUND
   */
  async run<A extends Record<string, unknown>, T>(principal: Principal, rule: Rule, args: A, operation: (args: A) => Promise<T> | T): Promise<T> {
    if (principal.kind === 'anonymous') throw unauthenticated();
    if (principal.kind === 'invalid') throw unauthenticated(principal.reason);
    if (principal.kind === 'open' || principal.kind === 'admin') return operation(args);
    if (rule.need === 'admin') throw forbidden('Only an administrator (OBSERVER_ADMIN_TOKEN or an admin key) may do this');
    const only = principal.projectId;
    const { on } = rule;
    let narrowed = args;
    if ('project' in on) {
      const id = Number(args[on.project]);
      if (only !== null && id !== only) throw notFound('Project', id);
    } else if ('session' in on) {
      const id = Number(args[on.session]);
      const project = await this.sessions.projectOf(id);
      if (only !== null && project !== only) throw notFound('Session', id);
    } else if ('projectList' in on && only !== null) {
      const after = args[on.projectList.after];
      const from = after === undefined || after === null || after === '' ? 0 : Number(after);
      // A cursor that is not a number is left for the operation to refuse (422), as it says it.
      if (!Number.isNaN(from)) narrowed = { ...args, [on.projectList.after]: Math.max(from, only - 1), [on.projectList.first]: 1 };
    } else if ('sessionList' in on && only !== null) {
      const asked = args[on.sessionList];
      if (asked !== undefined && asked !== null && asked !== only) throw notFound('Project', Number(asked));
      narrowed = { ...args, [on.sessionList]: only };
    }
    if (rule.need === 'write' && principal.scope !== 'write') throw forbidden('This API key may only read (its scope is "read")');
    const result = await operation(narrowed);
    if (only === null) return result;
    if ('projectList' in on && Array.isArray(result)) return result.filter((p: { id?: unknown }) => p.id === only) as T;
    if ('sessionStream' in on) return onlyProject(result as AsyncIterableIterator<{ projectId?: unknown }>, only) as T;
    return result;
  }
}

/** The events of `events` whose `projectId` is `project`; `return()` reaches the source at once. */
function onlyProject<T extends { projectId?: unknown }>(events: AsyncIterableIterator<T>, project: number): AsyncIterableIterator<T> {
  const it: AsyncIterableIterator<T> = {
    async next() {
      for (;;) {
        const r = await events.next();
        if (r.done || r.value.projectId === project) return r;
      }
    },
    return: () => events.return?.() ?? Promise.resolve({ value: undefined, done: true }),
    [Symbol.asyncIterator]: () => it,
  };
  return it;
}
