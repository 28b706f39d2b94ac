import { createClient, type Client } from 'graphql-ws';

/** The WebSocket constructor: the browser's, or `ws` in Node (which has none before v22). */
async function webSocketImpl(): Promise<unknown> {
  const g = globalThis as { WebSocket?: unknown };
  if (g.WebSocket) return g.WebSocket;
  return (await import(/* @vite-ignore */ 'ws')).default;
}

/** Status events of the server's `sessionStatus` subscription. */
export interface StatusEvent {
  status: 'running' | 'analyzing' | 'pending' | 'paused' | 'stopped' | 'completed' | 'failed';
  stepIndex: number | null;
  reason: string;
  run: { healthScore: number; issues: { severity: 'critical' | 'warning' | 'info'; category: string; title: string; description: string; suggestion: string; confidence: number | null; layerId: string | null; epochIndex: number | null }[] } | null;
}

const STATUS = `subscription($id: Int!) { sessionStatus(sessionId: $id) {
  status stepIndex reason run { healthScore issues { severity category title description suggestion confidence layerId epochIndex } } } }`;

/**
 * One graphql-ws connection to the server, reconnecting forever with backoff. Mutations are
 * sent over it; `connected` says whether the socket is up right now.
 */
export class Connection {
  private client: Client | undefined;
  connected = false;
  private readonly listeners = new Set<(up: boolean) => void>();

  constructor(private readonly url: string) {}

  async open(): Promise<void> {
    const impl = await webSocketImpl();
    this.client = createClient({
      url: this.url,
      webSocketImpl: impl,
      lazy: false,
      keepAlive: 10_000,
      retryAttempts: Number.MAX_SAFE_INTEGER,
      shouldRetry: () => true,
      retryWait: async (retries) => new Promise((r) => setTimeout(r, Math.min(5000, 250 * 2 ** Math.min(retries, 5)))),
      on: {
        connected: () => this.set(true),
        closed: () => this.set(false),
        error: () => this.set(false),
      },
    });
  }

  private set(up: boolean): void {
    if (this.connected === up) return;
    this.connected = up;
    for (const l of this.listeners) l(up);
  }

  /** Calls `f` on each change of connectivity; returns the unsubscribe. */
  onChange(f: (up: boolean) => void): () => void {
    this.listeners.add(f);
    return () => this.listeners.delete(f);
  }

  /**
   * One query or mutation. While the server is down it waits for the reconnect (graphql-ws
   * re-sends it then); the server treats a step sent twice as one.
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
            if (r.errors?.length) reject(Object.assign(new Error(r.errors.map((e) => e.message).join('; ')), { graphQLErrors: r.errors }));
            else result = r.data as T;
          },
          error: (e) => reject(e instanceof Error ? e : new Error(describeClose(e))),
          complete: () => (result === undefined ? reject(new Error('the connection closed before the answer arrived')) : resolve(result)),
        },
      );
    });
  }

  /** The session's status changes; graphql-ws re-subscribes after a reconnect (and the server starts with the current status). */
  watchStatus(sessionId: number, onEvent: (e: StatusEvent) => void): () => void {
    if (!this.client) throw new Error('connection not open');
    return this.client.subscribe<{ sessionStatus: StatusEvent }>(
      { query: STATUS, variables: { id: sessionId } },
      { next: (r) => r.data && onEvent(r.data.sessionStatus), error: () => {}, complete: () => {} },
    );
  }

  async close(): Promise<void> {
    await this.client?.dispose();
    this.client = undefined;
    this.set(false);
  }
}

function describeClose(e: unknown): string {
  const ev = e as { code?: number; reason?: string };
  return ev && typeof ev.code === 'number' ? `socket closed (${ev.code}${ev.reason ? `: ${ev.reason}` : ''})` : String(e);
}
