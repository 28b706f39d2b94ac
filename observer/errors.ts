import type { PendingIssue } from './record.ts';

/** Training was stopped (or completed/failed) by a decision on the server. */
export class SessionStoppedError extends Error {
  override readonly name = 'SessionStoppedError';
  constructor(
    readonly status: 'stopped' | 'completed' | 'failed',
    readonly sessionId: number | null,
  ) {
    super(`Training was ${status === 'failed' ? 'marked as failed' : status} on the server (session ${sessionId ?? '?'})`);
  }
}

/** Nobody decided within `pendingTimeout`: a checkpoint was saved and the session stopped. */
export class PendingTimeoutError extends Error {
  override readonly name = 'PendingTimeoutError';
  constructor(
    readonly seconds: number,
    readonly issues: PendingIssue[],
    readonly checkpoint: string | null,
  ) {
    super(`No decision within ${seconds} s while the session was pending; ${checkpoint ? `checkpoint saved to ${checkpoint}` : 'no model to checkpoint'}, session stopped`);
  }
}
