import { AccessGuard } from './auth/access.ts';
import type { Db, RawText } from './db/client.ts';
import { KeysService, type KeyOptions } from './domains/keys/keys.service.ts';
import { DiagnosticsService, type ErrorReporter, type JudgeOptions } from './domains/diagnostics/diagnostics.service.ts';
import { LogsService } from './domains/logs/logs.service.ts';
import { ProjectsService } from './domains/projects/projects.service.ts';
import { RemediesService } from './domains/remedies/remedies.service.ts';
import { SessionRuntime } from './domains/sessions/session-runtime.ts';
import { SessionsService } from './domains/sessions/sessions.service.ts';
import { StepsService } from './domains/steps/steps.service.ts';
import type { Topics } from './domains/views.ts';
import type { EventBus } from './lib/event-bus.ts';
import { PubSub } from './lib/pubsub.ts';

/** The service layer both REST and GraphQL call. */
export interface Services {
  projects: ProjectsService;
  sessions: SessionsService;
  steps: StepsService;
  logs: LogsService;
  diagnostics: DiagnosticsService;
  /** Remedies chosen with resumes and the observer's reports on them (issue 15). */
  remedies: RemediesService;
  pubsub: PubSub<Topics>;
  keys: KeysService;
  /** Who may do what: applied to every REST route and GraphQL root field. */
  access: AccessGuard;
}

/**
 * The services over an open database. `text` is how raw SQL writes a string (see
 * `OpenDatabase.text`; as it is by default).
 */
export function createServices(db: Db, opts: { subscriberQueueLimit: number; reportError: ErrorReporter; text?: RawText; writableCte?: boolean; bus?: EventBus; judge?: JudgeOptions; keys?: KeyOptions }): Services {
  const pubsub = new PubSub<Topics>(opts.subscriberQueueLimit, {
    sessionStatus: 'latest',
    sessionSteps: 'drop-oldest',
    sessionLogs: 'drop-oldest',
    sessionCreated: 'drop-oldest',
    apiKeyRevoked: 'drop-oldest',
  }, opts.bus);
  const runtime = new SessionRuntime(db, pubsub);
  const projects = new ProjectsService(db);
  const diagnostics = new DiagnosticsService(db, runtime, opts.reportError, opts.text, { ...opts.judge, writableCte: opts.writableCte });
  const remedies = new RemediesService(db);
  const sessions = new SessionsService(db, runtime, projects, diagnostics, pubsub, remedies, opts.reportError);
  const steps = new StepsService(db, runtime, pubsub, diagnostics, opts.text, opts.writableCte);
  const logs = new LogsService(db, runtime, pubsub);
  const keys = new KeysService(db, pubsub, opts.keys ?? { adminToken: undefined });
  return { projects, sessions, steps, logs, diagnostics, remedies, pubsub, keys, access: new AccessGuard(runtime) };
}
