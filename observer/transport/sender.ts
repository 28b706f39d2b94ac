import type { Json } from '../record.ts';
import type { Connection } from './connection.ts';
import { encodeNonFinite, toLogInput, toStepInput } from './encode.ts';
import type { OutboxStore } from './idb-store.ts';
import type { Outbox, OutboxItem } from './outbox.ts';

const CREATE_SESSION = 'mutation($p: Int!, $i: SessionInput) { createSession(projectId: $p, input: $i) { id } }';
const REGISTER_MODEL = 'mutation($s: Int!, $i: ModelInput!) { registerModel(sessionId: $s, input: $i) { diagnostics { healthScore } } }';
const RECORD_STEPS = 'mutation($s: Int!, $steps: [StepInput!]!) { recordSteps(sessionId: $s, steps: $steps) { created } }';
const PUSH_LOGS = 'mutation($s: Int!, $logs: [LogInput!]!) { pushLogs(sessionId: $s, logs: $logs) { id } }';

/** Codes of GraphQL errors that re-sending cannot fix: the items are dropped and counted. */
const PERMANENT = new Set(['SESSION_NOT_RUNNING', 'VALIDATION_FAILED', 'NOT_FOUND', 'BAD_USER_INPUT']);
const isPermanent = (err: unknown) =>
  ((err as { graphQLErrors?: { extensions?: { code?: string } }[] }).graphQLErrors ?? []).some((e) => PERMANENT.has(e.extensions?.code ?? ''));

/** How to reach a session: its id, or what creates it. */
export interface SessionSpec {
  projectId: number;
  sessionInput: Json;
  sessionId: number | null;
}

/**
 * Sends one session's outbox in order while the server is reachable: the session first
 * (created once, when the server first answers), then the model, steps (batched with
 * `recordSteps`, which stores a resent index only once) and logs.
 */
export class Sender {
  private session: Promise<number> | null;
  private pumping = false;
  /** Items the server refused for good (e.g. the session was stopped meanwhile). */
  readonly rejected = { steps: 0, logs: 0 };

  constructor(
    private readonly connection: Connection,
    readonly outbox: Outbox,
    private readonly spec: SessionSpec,
    private readonly store: OutboxStore | null,
    private readonly onSession: (id: number) => void = () => {},
  ) {
    this.session = spec.sessionId !== null ? Promise.resolve(spec.sessionId) : null;
  }

  /** The session id, creating the session on first call (waits while the server is down). */
  ensureSession(): Promise<number> {
    this.session ??= (async () => {
      const r = await this.connection.request<{ createSession: { id: number } }>(CREATE_SESSION, { p: this.spec.projectId, i: this.spec.sessionInput });
      const id = r.createSession.id;
      this.store?.setSession(id);
      this.onSession(id);
      return id;
    })();
    return this.session;
  }

  /** Forgets the stored outbox once everything was delivered (the owner is done). */
  finish(): void {
    if (!this.outbox.size) this.store?.clear();
  }

  push(item: OutboxItem): void {
    this.outbox.push(item);
    this.pump();
  }

  /** Sends what waits, in order; returns at once (the sending runs on its own). */
  pump(): void {
    if (this.pumping) return;
    this.pumping = true;
    void (async () => {
      try {
        while (this.outbox.size) {
          const sessionId = await this.ensureSession();
          const items = this.outbox.head(this.outbox.head(1)[0]?.kind === 'logs' ? 1 : 100);
          const first = items[0]!;
          try {
            if (first.kind === 'model')
              await this.connection.request(REGISTER_MODEL, { s: sessionId, i: encodeNonFinite({ architecture: first.architecture, hyperparameters: first.hyperparameters }) });
            else if (first.kind === 'step')
              await this.connection.request(RECORD_STEPS, { s: sessionId, steps: items.flatMap((x) => (x.kind === 'step' ? [toStepInput(x.record)] : [])) });
            else await this.connection.request(PUSH_LOGS, { s: sessionId, logs: items.flatMap((x) => (x.kind === 'logs' ? x.lines.map(toLogInput) : [])) });
          } catch (err) {
            if (!isPermanent(err)) throw err;
            if (first.kind === 'step') this.rejected.steps += items.length;
            if (first.kind === 'logs') this.rejected.logs += items.length;
          }
          this.outbox.shift(items.length);
        }
      } catch {
        // Connection trouble: the next reconnect pumps again.
      } finally {
        this.pumping = false;
      }
    })();
  }
}
