import type { Json } from '../record.ts';
import { dropFirst, planBatch, type Batch } from './batch.ts';
import { isTooBig, type Connection } from './connection.ts';
import type { Outbox, OutboxItem, OutboxStore } from './outbox.ts';

const CREATE_SESSION = 'mutation($p: Int!, $i: SessionInput) { createSession(projectId: $p, input: $i) { id } }';

/** Outbox items looked at for one message (a message holds at most 100 steps or 500 lines). */
const HEAD = 100;

/** Codes of GraphQL errors that re-sending cannot fix: the items are dropped and counted. */
const PERMANENT = new Set(['SESSION_NOT_RUNNING', 'VALIDATION_FAILED', 'NOT_FOUND', 'BAD_USER_INPUT']);
const permanentCode = (err: unknown) =>
  ((err as { graphQLErrors?: { extensions?: { code?: string } }[] }).graphQLErrors ?? []).map((e) => e.extensions?.code ?? '').find((c) => PERMANENT.has(c));

/** How to reach a session: its id, or what creates it. */
export interface SessionSpec {
  projectId: number;
  sessionInput: Json;
  sessionId: number | null;
}

/** Options of {@link Sender}. */
export interface SenderOptions {
  /** Called once the session exists on the server. */
  onSession?: (id: number) => void;
  /** Where the sender says what it cut, reduced or dropped (the observer's own log). @default nowhere */
  warn?: (msg: string) => void;
  /** Called for each step left out for good: no verdict will come for it. */
  onDropped?: (stepIndex: number) => void;
}

/**
 * Sends one session's outbox in order while the server is reachable: the session first
 * (created once, when the server first answers), then the model, steps (batched with
 * `recordSteps`, which stores a resent index only once) and logs, each message under the
 * connection's byte budget (see `planBatch`). A message the server closes the socket over
 * (1009) is planned again under the halved budget; at the smallest budget steps and lines go
 * one a message, and one refused alone is dropped and counted, so nothing is resent forever.
 */
export class Sender {
  private session: Promise<number> | null;
  private pumping = false;
  /** One step or line a message: the server refused a message at the smallest budget. */
  private single = false;
  private saidRefused = false;
  /** Items the server refused for good (e.g. the session was stopped meanwhile) or that could not fit any message. */
  readonly rejected = { steps: 0, logs: 0 };
  /** Steps sent without some channels and log lines sent cut, to fit the message limit. */
  readonly trimmed = { steps: 0, logs: 0 };

  constructor(
    private readonly connection: Connection,
    readonly outbox: Outbox,
    private readonly spec: SessionSpec,
    private readonly store: OutboxStore | null,
    private readonly opts: SenderOptions = {},
  ) {
    this.session = spec.sessionId !== null ? Promise.resolve(spec.sessionId) : null;
  }

  /** The session id, creating the session on first call (waits while the server is down; a failed try is made again on the next call). */
  ensureSession(): Promise<number> {
    this.session ??= (async () => {
      const r = await this.connection.request<{ createSession: { id: number } }>(CREATE_SESSION, { p: this.spec.projectId, i: this.spec.sessionInput });
      const id = r.createSession.id;
      this.store?.setSession(id);
      this.opts.onSession?.(id);
      return id;
    })().catch((err: unknown) => {
      this.session = null;
      throw err;
    });
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
        while (this.outbox.size) await this.sendNext(await this.ensureSession());
      } catch {
        // Connection trouble: the next reconnect pumps again.
      } finally {
        this.pumping = false;
      }
    })();
  }

  /** Sends one message from the head of the outbox, then takes what it covered off. */
  private async sendNext(sessionId: number): Promise<void> {
    const head = this.outbox.head(HEAD);
    const budget = this.connection.maxMessageBytes;
    let batch = planBatch(head, sessionId, { budget, maxUnits: this.single ? 1 : undefined });
    try {
      if (batch.query) await this.connection.request(batch.query, batch.variables);
    } catch (err) {
      if (isTooBig(err)) {
        // The connection halved its budget when the socket closed: plan again under it.
        if (this.connection.maxMessageBytes < budget) return;
        if (batch.units > 1) {
          this.single = true;
          return;
        }
        batch = dropFirst(head, budget);
      } else {
        const code = permanentCode(err);
        if (!code) throw err;
        batch = this.refused(batch, head[0]!.kind, code, (err as Error).message);
      }
    }
    this.settle(batch);
  }

  /** A batch the server refused for good: counted, and said once per sender (a refused warning must not feed itself). */
  private refused(batch: Batch, kind: OutboxItem['kind'], code: string, message: string): Batch {
    if (kind === 'step') this.rejected.steps += batch.units;
    if (kind === 'logs') this.rejected.logs += batch.units;
    const notes = this.saidRefused ? [] : [`the server refused ${batch.units} ${kind === 'logs' ? 'log line(s)' : kind === 'step' ? 'step(s)' : 'model'} for good (${code}: ${message}); counted as rejected`];
    this.saidRefused = true;
    return { ...batch, notes, trimmed: { steps: 0, logs: 0 } };
  }

  private settle(b: Batch): void {
    this.outbox.shift(b.items);
    if (b.rest) this.outbox.replaceHead(b.rest);
    this.trimmed.steps += b.trimmed.steps;
    this.trimmed.logs += b.trimmed.logs;
    this.rejected.steps += b.dropped.steps.length;
    this.rejected.logs += b.dropped.logs;
    for (const step of b.dropped.steps) this.opts.onDropped?.(step);
    for (const note of b.notes) this.opts.warn?.(note);
  }
}
