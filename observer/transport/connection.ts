import { createClient, type Client } from 'graphql-ws';
import { systemClock, type Clock } from '../clock.ts';
import { MIN_MESSAGE_BYTES } from '../config.ts';
import type { PendingIssue } from '../record.ts';
import type { RemedyApplication } from '../remedies/types.ts';

/** The WebSocket constructor: the browser's, or `ws` in Node (which has none before v22). */
async function webSocketImpl(): Promise<unknown> {
  const g = globalThis as { WebSocket?: unknown };
  if (g.WebSocket) return g.WebSocket;
  return (await import(/* @vite-ignore */ 'ws')).default;
}

/** Status events of the server's `sessionStatus` subscription. */
export interface StatusEvent {
  status: 'running' | 'analyzing' | 'pending' | 'paused' | 'stopped' | 'completed' | 'failed';
  /** The session's status version after the change: events arrive through any replica, so an older one may come late. */
  version: number;
  stepIndex: number | null;
  reason: string;
  run: { healthScore: number; issues: PendingIssue[] } | null;
  /** The remedies chosen with the resume that produced this change (null for any other change). */
  remedies: RemedyApplication | null;
}

const REMEDY = 'kind factor maxNorm toStep atStep trainingStep reason confidence';
const STATUS = `subscription($id: Int!) { sessionStatus(sessionId: $id) {
  status version stepIndex reason
  run { healthScore issues { code severity category title description suggestion confidence layerId epochIndex remedies { ${REMEDY} summary } } }
  remedies { id remedies { ${REMEDY} } } } }`;

/** WebSocket close codes the observer acts on (RFC 6455 §7.4.1). */
export const CloseCode = { MessageTooBig: 1009, Forbidden: 4403 } as const;

/** A request failed because its socket closed; `code` is the WebSocket close code. */
export class SocketClosedError extends Error {
  override readonly name = 'SocketClosedError';
  constructor(
    readonly code: number,
    readonly reason: string,
  ) {
    super(`socket closed (${code}${reason ? `: ${reason}` : ''})`);
  }
}

/** Whether the server closed the socket because a message was bigger than it takes. */
export const isTooBig = (err: unknown): boolean => err instanceof SocketClosedError && err.code === CloseCode.MessageTooBig;

/** What the connection went through, for the observer's `transport` view. */
export interface ConnectionHealth {
  /** The largest message to send now: the configured one, halved at each 1009 close down to `MIN_MESSAGE_BYTES`. */
  maxMessageBytes: number;
  /** Sockets the server closed for a message too big (1009). */
  tooBigCloses: number;
  /** Fresh clients started because graphql-ws gave up on a close it deems fatal. */
  restarts: number;
  /** Errors of the status subscription, each followed by a re-subscribe. */
  statusErrors: number;
  /** The last of those problems, in words. */
  lastError: string | null;
}

/** Options of {@link Connection}. */
export interface ConnectionOptions {
  /** The largest message to send at first, in bytes. */
  maxMessageBytes: number;
  /** Where the connection says what went wrong (the observer's own log). @default nowhere */
  warn?: (msg: string) => void;
  /** The `connection_init` payload, e.g. `{ apiKey }` for a server that requires keys. @default none */
  connectionParams?: Record<string, unknown>;
  /** Where the reconnect and re-subscribe backoff waits. @default the system clock */
  clock?: Clock;
}

/** The wait before reconnect or re-subscribe attempt `attempt` (from 0): 250 ms, doubling, at most 5 s. */
export const backoff = (attempt: number) => Math.min(5000, 250 * 2 ** Math.min(attempt, 5));

/**
 * One graphql-ws connection to the server, reconnecting forever with backoff. Mutations are
 * sent over it; `connected` says whether the socket is up right now. graphql-ws ends its own
 * reconnect loop on a close it deems fatal, 1009 (message too big) among them, whatever
 * `shouldRetry` says; the connection then starts a fresh client, so it never stays down.
 */
export class Connection {
  private client: Client | undefined;
  private impl: unknown;
  private closing = false;
  connected = false;
  readonly health: ConnectionHealth;
  /** Fresh clients in a row that died before the server acknowledged them. */
  private failedStarts = 0;
  private warnedForbidden = false;
  private readonly sleeps = new Set<() => void>();
  private readonly listeners = new Set<(up: boolean) => void>();
  private readonly clock: Clock;

  constructor(
    private readonly url: string,
    private readonly opts: ConnectionOptions,
  ) {
    this.clock = opts.clock ?? systemClock;
    this.health = { maxMessageBytes: opts.maxMessageBytes, tooBigCloses: 0, restarts: 0, statusErrors: 0, lastError: null };
  }

  /** The largest message to send now, in bytes. */
  get maxMessageBytes(): number {
    return this.health.maxMessageBytes;
  }

  async open(): Promise<void> {
    this.impl = await webSocketImpl();
    this.start(0);
  }

  private start(delayMs: number): void {
    let acked = false;
    let wait = delayMs;
    const client: Client = createClient({
      // A fresh client after one that never got through waits first, so a refusing server is not hammered.
      url: async () => {
        if (wait > 0) await this.sleep(wait);
        wait = 0;
        return this.url;
      },
      webSocketImpl: this.impl,
      connectionParams: this.opts.connectionParams,
      lazy: false,
      keepAlive: 10_000,
      retryAttempts: Number.MAX_SAFE_INTEGER,
      shouldRetry: () => true,
      retryWait: (retries) => this.sleep(backoff(retries)),
      on: {
        connected: () => {
          acked = true;
          this.failedStarts = 0;
          this.set(client, true);
        },
        closed: (e) => this.onClosed(client, e),
        error: () => this.set(client, false),
      },
      onNonLazyError: (e) => this.restart(client, e, acked),
    });
    this.client = client;
  }

  /** Runs before graphql-ws fails the socket's operations, so a retried batch already sees the smaller budget. */
  private onClosed(client: Client, e: unknown): void {
    this.set(client, false);
    const code = (e as { code?: number } | null)?.code;
    if (client === this.client && code === CloseCode.Forbidden && !this.warnedForbidden) {
      // Said once: the connection keeps retrying (with backoff) in case the key is fixed on the server side.
      this.warnedForbidden = true;
      this.opts.warn?.('the server refused the API key (4403 Forbidden): set config.apiKey to a write key of this project');
    }
    if (client !== this.client || code !== CloseCode.MessageTooBig) return;
    this.health.tooBigCloses++;
    this.health.lastError = describe(e);
    const before = this.health.maxMessageBytes;
    this.health.maxMessageBytes = Math.max(MIN_MESSAGE_BYTES, Math.floor(before / 2));
    if (this.health.maxMessageBytes < before)
      this.opts.warn?.(`the server closed the connection over a message bigger than it takes (1009); messages now stay under ${this.health.maxMessageBytes} bytes`);
  }

  private restart(dead: Client, e: unknown, acked: boolean): void {
    if (this.closing || dead !== this.client) return;
    this.health.restarts++;
    this.health.lastError = describe(e);
    const delay = acked ? 0 : backoff(this.failedStarts++);
    if ((e as { code?: number } | null)?.code !== CloseCode.MessageTooBig) this.opts.warn?.(`the connection failed (${describe(e)}); reconnecting`);
    void Promise.resolve(dead.dispose()).catch(() => undefined);
    this.start(delay);
  }

  private set(client: Client | null, up: boolean): void {
    if ((client && client !== this.client) || this.connected === up) return;
    this.connected = up;
    for (const l of this.listeners) l(up);
  }

  /** A wait that `close()` cuts short. */
  private sleep(ms: number): Promise<void> {
    if (this.closing) return Promise.resolve();
    return new Promise((resolve) => {
      const wake = () => {
        cancel();
        this.sleeps.delete(wake);
        resolve();
      };
      const cancel = this.clock.after(ms, wake);
      this.sleeps.add(wake);
    });
  }

  /** Calls `f` on each change of connectivity; returns the unsubscribe. */
  onChange(f: (up: boolean) => void): () => void {
    this.listeners.add(f);
    return () => this.listeners.delete(f);
  }

  /**
   * One query or mutation. While the server is down it waits for the reconnect (graphql-ws
   * re-sends it then); the server treats a step sent twice as one. Rejects with
   * {@link SocketClosedError} when the server closes the socket for good (1009: too big).
   */
  request<T>(query: string, variables: Record<string, unknown>): Promise<T> {
    const client = this.client;
    if (!client) return Promise.reject(new Error('connection not open'));
    return new Promise<T>((resolve, reject) => {
      let result: T | undefined;
      client.subscribe<T>(
        { query, variables },
        {
          next: (r) => {
            if (r.errors?.length) reject(graphQLError(r.errors));
            else result = r.data as T;
          },
          error: (e) => reject(toError(e)),
          complete: () => (result === undefined ? reject(new Error('the connection closed before the answer arrived')) : resolve(result)),
        },
      );
    });
  }

  /**
   * The session's status changes, starting with its current status. graphql-ws re-subscribes
   * after a reconnect; after an error (a fatal close, a GraphQL error) or an end, this
   * re-subscribes itself with backoff until stopped, so pauses are always heard. Each error
   * is counted in `health` and given to `onError` with how many came in a row before it.
   * @returns the stop
   */
  watchStatus(sessionId: number, onEvent: (e: StatusEvent) => void, onError: (err: Error, streak: number) => void = () => {}): () => void {
    let stopped = false;
    let unsubscribe = () => {};
    let cancelRetry = () => {};
    let streak = 0;
    // The newest version applied: a re-subscription starts with the current status again, and
    // replicas may deliver an older change after a newer one; neither is applied twice or backwards.
    let applied = -1;
    const subscribe = () => {
      const client = this.client;
      if (stopped || !client) return;
      let over = false;
      const again = (err: Error | null) => {
        if (over || stopped) return;
        over = true;
        unsubscribe();
        if (err) {
          this.health.statusErrors++;
          this.health.lastError = `status updates: ${err.message}`;
          onError(err, streak);
        }
        cancelRetry = this.clock.after(backoff(streak++), subscribe);
      };
      unsubscribe = client.subscribe<{ sessionStatus: StatusEvent }>(
        { query: STATUS, variables: { id: sessionId } },
        {
          next: (r) => {
            if (r.errors?.length) return again(graphQLError(r.errors));
            streak = 0;
            const e = r.data?.sessionStatus;
            if (!e || e.version <= applied) return;
            applied = e.version;
            onEvent(e);
          },
          error: (e) => again(toError(e)),
          complete: () => again(null),
        },
      );
    };
    subscribe();
    return () => {
      stopped = true;
      cancelRetry();
      unsubscribe();
    };
  }

  async close(): Promise<void> {
    this.closing = true;
    for (const wake of [...this.sleeps]) wake();
    const client = this.client;
    this.client = undefined;
    this.set(null, false);
    // A client still reconnecting to a server that is down rejects its dispose: nothing is left to close then.
    if (client) await Promise.resolve(client.dispose()).catch(() => undefined);
  }
}

function graphQLError(errors: readonly { message: string }[]): Error {
  return Object.assign(new Error(errors.map((e) => e.message).join('; ')), { graphQLErrors: errors });
}

/** What graphql-ws hands an error sink: an Error, a close event, or the GraphQL errors of an `error` message. */
function toError(e: unknown): Error {
  const ev = e as { code?: unknown; reason?: unknown } | null;
  if (ev && typeof ev === 'object' && typeof ev.code === 'number' && 'reason' in ev) return new SocketClosedError(ev.code, String(ev.reason ?? ''));
  if (e instanceof Error) return e;
  if (Array.isArray(e)) return graphQLError(e as { message: string }[]);
  return new Error(String(e));
}

function describe(e: unknown): string {
  return toError(e).message;
}
