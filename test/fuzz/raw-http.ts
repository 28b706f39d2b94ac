import { connect } from 'node:net';

/** An HTTP answer read off a raw socket. `status` 0 means the server answered nothing. */
export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** A request written byte for byte: nothing normalises its path or checks its headers. */
export interface RawRequest {
  method: string;
  /** Sent as is, e.g. `/../../etc/passwd` or `/projects/%ZZ`. */
  target: string;
  /** Header lines; `Host` is sent only when given (an absent Host is a case of its own). */
  headers: [string, string][];
  body?: Buffer | string;
}

/** Writes the request on a fresh socket (`Connection: close`) and reads the whole answer. */
export function rawRequest(port: number, req: RawRequest, timeoutMs = 10_000): Promise<RawResponse> {
  const body = req.body === undefined ? undefined : Buffer.isBuffer(req.body) ? req.body : Buffer.from(req.body, 'utf8');
  const lines = [`${req.method} ${req.target} HTTP/1.1`, ...req.headers.map(([k, v]) => `${k}: ${v}`), 'Connection: close'];
  if (body) lines.push(`Content-Length: ${body.length}`);
  const head = Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer within ${timeoutMs} ms to ${req.method} ${req.target}`));
    }, timeoutMs);
    // write, not end: a half-closed socket lets Node's HTTP server abort the request before it answers.
    socket.on('connect', () => socket.write(body ? Buffer.concat([head, body]) : head));
    let streaming = false;
    socket.on('data', (c: Buffer) => {
      chunks.push(c);
      // A subscription over HTTP (server-sent events, multipart) never ends by itself: read its start, then hang up.
      if (!streaming && /content-type: (text\/event-stream|multipart\/mixed)/i.test(Buffer.concat(chunks).subarray(0, 2048).toString('latin1'))) {
        streaming = true;
        setTimeout(() => socket.destroy(), 100);
      }
    });
    // The server may close while we still write a body it refused (413): keep what it answered.
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(parseResponse(Buffer.concat(chunks)));
    });
  });
}

function parseResponse(raw: Buffer): RawResponse {
  const end = raw.indexOf('\r\n\r\n');
  if (end < 0) return { status: 0, headers: {}, body: raw.toString('latin1') };
  const [statusLine, ...headerLines] = raw.subarray(0, end).toString('latin1').split('\r\n');
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine ?? '')?.[1] ?? 0);
  const headers: Record<string, string> = {};
  for (const line of headerLines) {
    const i = line.indexOf(':');
    if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  let body = raw.subarray(end + 4);
  if (headers['transfer-encoding']?.includes('chunked')) body = dechunk(body);
  return { status, headers, body: body.toString('utf8') };
}

function dechunk(data: Buffer): Buffer {
  const out: Buffer[] = [];
  let i = 0;
  while (i < data.length) {
    const eol = data.indexOf('\r\n', i);
    if (eol < 0) break;
    const size = parseInt(data.subarray(i, eol).toString('latin1'), 16);
    if (!size) break;
    out.push(data.subarray(eol + 2, eol + 2 + size));
    i = eol + 2 + size + 2;
  }
  return Buffer.concat(out);
}
