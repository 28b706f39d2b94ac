import { describe, expect, it } from 'vitest';
import { DomainError } from '../../errors.ts';
import { acceptsSteps, applyAction } from './status.ts';

describe('session status machine', () => {
  it('resumes a pending session to running', () => {
    expect(applyAction('pending', 'resume')).toBe('running');
  });

  it('pauses a running or analyzing session and resumes it', () => {
    expect(applyAction('running', 'pause')).toBe('paused');
    expect(applyAction('analyzing', 'pause')).toBe('paused');
    expect(applyAction('paused', 'resume')).toBe('running');
    expect(() => applyAction('pending', 'pause')).toThrow(/only from running or analyzing/);
    expect(() => applyAction('paused', 'pause')).toThrow(/only from running or analyzing/);
  });

  it('refuses to resume a session that is not pending or paused, saying why', () => {
    expect(() => applyAction('running', 'resume')).toThrow(/only from pending or paused/);
    expect(() => applyAction('stopped', 'resume')).toThrow(/already ended/);
  });

  it('stops or completes any live session and nothing that has ended', () => {
    for (const s of ['running', 'analyzing', 'pending', 'paused'] as const) {
      expect(applyAction(s, 'stop')).toBe('stopped');
      expect(applyAction(s, 'complete')).toBe('completed');
    }
    expect(() => applyAction('completed', 'stop')).toThrow(DomainError);
  });

  it('accepts steps only while running, analyzing or paused (in flight when the pause came)', () => {
    expect(acceptsSteps('running')).toBe(true);
    expect(acceptsSteps('analyzing')).toBe(true);
    expect(acceptsSteps('paused')).toBe(true);
    for (const s of ['pending', 'stopped', 'completed', 'failed'] as const) expect(acceptsSteps(s)).toBe(false);
  });
});
