import WebSocket from 'ws';

/** A GraphQL error as the server sends it. */
export interface WireError {
  message: string;
  extensions?: { code?: string };
}

/** How one operation ended: completed, errored (GraphQL errors), still open when we stopped it, or the socket closed. */
export interface Outcome {
  kind: 'complete' | 'errors' | 'open' | 'closed';
  errors: WireError[];
}

/**
 * The graphql-transport-ws protocol spoken frame by frame over `ws`: connection_init, then one
 * `subscribe` per operation, answered by `next`, `error` and `complete`. Frames are written as
 * given (the fuzz decides what is in them), and every answer is checked by the caller.
 */
export class ProtocolConnection {
  closedWith: number | null = null;
  private readonly handlers = new Map<string, (msg: { type: string; payload?: unknown }) => void>();

  private constructor(private readonly socket: WebSocket) {
    socket.on('message', (data) => {
      let msg: { type: string; id?: string; payload?: unknown };
      try {
        msg = JSON.parse(String(data)) as typeof msg;
      } catch {
        return;
      }
      if (msg.type === 'ping') socket.send('{"type":"pong"}');
      if (msg.id) this.handlers.get(msg.id)?.(msg);
    });
    socket.on('close', (code) => {
      this.closedWith = code;
      for (const h of this.handlers.values()) h({ type: 'closed' });
    });
    socket.on('error', () => {});
  }

  /** Opens a socket and waits for the server's connection_ack. */
  static async open(url: string): Promise<ProtocolConnection> {
    const socket = new WebSocket(url, 'graphql-transport-ws');
    const conn = new ProtocolConnection(socket);
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => socket.send('{"type":"connection_init"}'));
      socket.on('message', (data) => String(data).includes('"connection_ack"') && resolve());
      socket.once('close', (code) => reject(new Error(`closed ${code} before connection_ack`)));
    });
    return conn;
  }

  /** Sends `subscribe` with `payloadJson` and collects the answers until complete, error, close, or `waitMs`. */
  run(id: string, payloadJson: string, waitMs: number): Promise<Outcome> {
    return new Promise((resolve) => {
      const errors: WireError[] = [];
      const finish = (kind: Outcome['kind']) => {
        clearTimeout(timer);
        this.handlers.delete(id);
        resolve({ kind, errors });
      };
      const timer = setTimeout(() => {
        if (this.socket.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify({ type: 'complete', id }));
        finish('open');
      }, waitMs);
      this.handlers.set(id, (msg) => {
        if (msg.type === 'next') errors.push(...((msg.payload as { errors?: WireError[] }).errors ?? []));
        else if (msg.type === 'error') {
          errors.push(...(msg.payload as WireError[]));
          finish('errors');
        } else if (msg.type === 'complete') finish('complete');
        else if (msg.type === 'closed') finish('closed');
      });
      this.socket.send(`{"id": ${JSON.stringify(id)}, "type": "subscribe", "payload": ${payloadJson}}`);
    });
  }

  close(): void {
    this.socket.close(1000);
  }
}
