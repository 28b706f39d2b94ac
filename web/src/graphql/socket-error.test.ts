import { describe, expect, it } from 'vitest';
import { socketError } from './socket-error.ts';

describe('socketError', () => {
  it("says a close event's code and reason", () => {
    expect(socketError({ code: 4429, reason: 'Too many WebSockets for this key' }).message).toBe('the connection closed with 4429: Too many WebSockets for this key');
  });

  it('explains a known code the server closed without a reason', () => {
    expect(socketError({ code: 1013, reason: '' }).message).toBe('the connection closed with 1013: the server is busy; try again later');
  });

  it('keeps an Error as it is, and describes anything else', () => {
    const e = new TypeError('boom');
    expect(socketError(e)).toBe(e);
    expect(socketError('offline').message).toBe('the connection failed (offline)');
  });
});
