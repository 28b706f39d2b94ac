/** How a WebSocket's end reads as an Error, for the live-updates banner. */

/** The close codes this server uses, in words. */
const CLOSE_REASONS: Record<number, string> = {
  1001: 'the server is going away',
  1006: 'the connection dropped',
  1013: 'the server is busy; try again later',
  4400: 'the server refused a message',
  4403: 'the API key was refused',
  4429: 'too many connections for this API key',
  4500: 'the server failed',
};

/** An Error for whatever ended a socket: an Error as is, a close event by its code and reason. */
export function socketError(e: unknown): Error {
  if (e instanceof Error) return e;
  if (typeof e === 'object' && e !== null && 'code' in e && typeof e.code === 'number') {
    const reason = 'reason' in e && typeof e.reason === 'string' && e.reason ? e.reason : (CLOSE_REASONS[e.code] ?? 'no reason given');
    return new Error(`the connection closed with ${e.code}: ${reason}`);
  }
  return new Error(`the connection failed (${String(e)})`);
}
