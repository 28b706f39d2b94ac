import { describe, expect, it } from 'vitest';
import { ManualClock } from './clock.ts';
import { PendingTimeoutError, SessionStoppedError } from './errors.ts';
import type { PendingIssue } from './record.ts';
import type { StatusEvent } from './transport/connection.ts';
import { VerdictGate, type PendingPrompt, type VerdictGateOptions } from './verdict.ts';

const NAN_ISSUE = { code: 'loss.non_finite', severity: 'critical', category: 'loss', title: 'Loss is NaN', description: 'd', suggestion: 's', confidence: 1, layerId: null, epochIndex: 0, remedies: [] } as PendingIssue;
let version = 0;
const event = (status: StatusEvent['status'], stepIndex: number | null, run: StatusEvent['run'] = null): StatusEvent => ({ status, version: ++version, stepIndex, reason: '', run, remedies: null });

/** A gate on a manual clock, with what it asked of the observer around it. */
function gate(opts: Partial<VerdictGateOptions> = {}) {
  const clock = new ManualClock(1_000_000);
  const calls = { decide: [] as string[], warn: [] as string[], prompts: [] as PendingPrompt[], paused: [] as boolean[], checkpoints: 0 };
  const g = new VerdictGate({
    clock,
    verdictTimeout: 10,
    pendingTimeout: 39,
    sessionId: () => 7,
    connected: () => true,
    decide: async (a, remedies, source) => void calls.decide.push(remedies ? `${a} ${remedies.map((r) => r.kind).join('+')} (${source})` : a),
    onPendingTimeout: 'stop',
    checkpoint: async () => (calls.checkpoints++, '/tmp/checkpoint'),
    closed: () => false,
    warn: (m) => void calls.warn.push(m),
    onPending: (p) => void calls.prompts.push(p),
    onPaused: (p) => void calls.paused.push(p),
    ...opts,
  });
  return { g, clock, calls };
}

/** Settles promise callbacks queued so far (no timers: the gate's time is the manual clock's). */
const settle = () => new Promise<void>((r) => setImmediate(r));

/** Whether `p` has settled yet, and how. */
function track(p: Promise<unknown>) {
  const state: { done: boolean; error: unknown } = { done: false, error: undefined };
  p.then(
    () => (state.done = true),
    (e: unknown) => ((state.done = true), (state.error = e)),
  );
  return state;
}

describe('VerdictGate', () => {
  it('waits for the verdict on its own step: a running about an earlier step does not release it', async () => {
    const { g, clock } = gate();
    const wait = track(g.awaitVerdict(3));
    g.onStatus(event('running', 2));
    g.onStatus(event('analyzing', 3));
    await settle();
    expect(wait.done).toBe(false);
    g.onStatus(event('running', 3));
    await settle();
    expect(wait).toEqual({ done: true, error: undefined });
    expect(clock.pending).toBe(0);
  });

  it('goes on with a warning when no verdict comes within verdictTimeout, and not a millisecond before', async () => {
    const { g, clock, calls } = gate();
    const wait = track(g.awaitVerdict(0));
    clock.advance(9_999);
    await settle();
    expect(wait.done).toBe(false);
    clock.advance(1);
    await settle();
    expect(wait).toEqual({ done: true, error: undefined });
    expect(calls.warn).toEqual(['no verdict on step 0 within 10 s; training goes on']);
  });

  it('does not wait while the server is out of reach, nor for a step the sender dropped', async () => {
    const offline = gate({ connected: () => false });
    await offline.g.awaitVerdict(0);
    expect(offline.clock.pending).toBe(0);
    const { g, clock } = gate();
    const wait = track(g.awaitVerdict(4));
    g.onStepDropped(4);
    await settle();
    expect(wait).toEqual({ done: true, error: undefined });
    expect(clock.pending).toBe(0);
  });

  it('prompts when pending with a deadline pendingTimeout ahead, and goes on when resumed', async () => {
    const { g, clock, calls } = gate();
    const wait = track(g.awaitVerdict(1));
    g.onStatus(event('pending', 1, { healthScore: 40, issues: [NAN_ISSUE] }));
    await settle();
    expect(calls.prompts).toHaveLength(1);
    expect(calls.prompts[0]).toMatchObject({ sessionId: 7, stepIndex: 1, healthScore: 40, issues: [NAN_ISSUE], deadline: clock.now() + 39_000 });
    await calls.prompts[0]!.resume();
    expect(calls.decide).toEqual(['resume']);
    clock.advance(20_000);
    g.onStatus(event('running', 1));
    await settle();
    expect(wait).toEqual({ done: true, error: undefined });
    expect(calls.checkpoints).toBe(0);
  });

  it('after 39 s of its clock without a decision: saves a checkpoint, stops the session and throws PendingTimeoutError', async () => {
    const { g, clock, calls } = gate();
    const wait = track(g.awaitVerdict(1));
    g.onStatus(event('pending', 1, { healthScore: 40, issues: [NAN_ISSUE] }));
    await settle();
    clock.advance(38_999);
    await settle();
    expect(wait.done).toBe(false);
    clock.advance(1);
    await settle();
    expect(wait.error).toBeInstanceOf(PendingTimeoutError);
    expect(wait.error).toMatchObject({ seconds: 39, checkpoint: '/tmp/checkpoint', issues: [NAN_ISSUE] });
    expect(calls.checkpoints).toBe(1);
    expect(calls.decide).toEqual(['stop']);
  });

  it('hears a prompt that decides at once, before any time passes', async () => {
    const { g, clock } = gate({ onPending: () => clock.advance(39_000) });
    const wait = track(g.awaitVerdict(0));
    g.onStatus(event('pending', 0));
    await settle();
    expect(wait.error).toBeInstanceOf(PendingTimeoutError);
  });

  it('holds a person\'s pause with no timeout, and goes on when resumed', async () => {
    const { g, clock, calls } = gate();
    g.onStatus(event('paused', 2));
    const hold = track(g.holdIfPaused());
    clock.advance(24 * 3600 * 1000);
    await settle();
    expect(hold.done).toBe(false);
    expect(calls.paused).toEqual([true]);
    g.onStatus(event('running', 2));
    await settle();
    expect(hold).toEqual({ done: true, error: undefined });
    expect(calls.paused).toEqual([true, false]);
  });

  it('throws SessionStoppedError when the session is stopped, paused or not', async () => {
    const { g } = gate();
    g.onStatus(event('paused', 2));
    const hold = track(g.holdIfPaused());
    g.onStatus(event('stopped', 2));
    await settle();
    expect(hold.error).toBeInstanceOf(SessionStoppedError);
    expect(hold.error).toMatchObject({ status: 'stopped', sessionId: 7 });
    await expect(g.awaitVerdict(3)).rejects.toBeInstanceOf(SessionStoppedError);
  });

  it('costs nothing while running: holdIfPaused returns at once', async () => {
    const { g, clock } = gate();
    g.onStatus(event('running', 0));
    await g.holdIfPaused();
    expect(clock.pending).toBe(0);
  });

  describe('remedies', () => {
    const SPIKE = {
      ...NAN_ISSUE,
      remedies: [
        { kind: 'rollback', toStep: 2, reason: 'the loss was finite and falling until the learning rate rose', confidence: 0.9, summary: 'roll back to step 2' },
        { kind: 'scale_learning_rate', factor: 0.1, reason: 'the learning rate rose 100x', confidence: 0.9, summary: 'lower the learning rate 10x' },
      ],
    } as PendingIssue;
    const MILD = { ...NAN_ISSUE, severity: 'warning', confidence: 1, remedies: [{ kind: 'clip_gradients', maxNorm: 1, reason: 'r', confidence: 1 }] } as PendingIssue;

    it("shows the top issue's remedies with their reasons, and a resume with them sends them", async () => {
      const { g, calls } = gate();
      void track(g.awaitVerdict(3));
      g.onStatus(event('pending', 3, { healthScore: 10, issues: [MILD, { ...NAN_ISSUE, remedies: [] }, SPIKE] }));
      await settle();
      const prompt = calls.prompts[0]!;
      expect(prompt.remedies).toEqual(SPIKE.remedies);
      expect(prompt.remedies.map((r) => r.reason)).toEqual(['the loss was finite and falling until the learning rate rose', 'the learning rate rose 100x']);
      await prompt.resume(prompt.remedies);
      expect(calls.decide).toEqual(['resume rollback+scale_learning_rate (observer:prompt)']);
    });

    it("with onPendingTimeout: 'remedy', an unanswered prompt resumes with the top issue's remedies instead of stopping", async () => {
      const { g, clock, calls } = gate({ onPendingTimeout: 'remedy' });
      const wait = track(g.awaitVerdict(3));
      g.onStatus(event('pending', 3, { healthScore: 10, issues: [SPIKE] }));
      await settle();
      clock.advance(39_000);
      await settle();
      expect(calls.decide).toEqual(['resume rollback+scale_learning_rate (observer:timeout)']);
      expect(wait.done).toBe(false);
      g.onStatus(event('running', 3));
      await settle();
      expect(wait).toEqual({ done: true, error: undefined });
      expect(calls.checkpoints).toBe(0);
    });

    it("with onPendingTimeout: 'remedy' and no remedy proposed, the timeout checkpoints and stops as before", async () => {
      const { g, clock, calls } = gate({ onPendingTimeout: 'remedy' });
      const wait = track(g.awaitVerdict(3));
      g.onStatus(event('pending', 3, { healthScore: 10, issues: [NAN_ISSUE] }));
      await settle();
      clock.advance(39_000);
      await settle();
      expect(wait.error).toBeInstanceOf(PendingTimeoutError);
      expect(calls.decide).toEqual(['stop']);
    });

    it('says a flush was healthy only when its verdict was running with no pause', async () => {
      const { g } = gate();
      const ok = g.awaitVerdict(1);
      g.onStatus(event('running', 1));
      await expect(ok).resolves.toBe(true);
      const judged = g.awaitVerdict(2);
      g.onStatus(event('pending', 2, { healthScore: 10, issues: [NAN_ISSUE] }));
      await settle();
      g.onStatus(event('running', 2));
      await expect(judged).resolves.toBe(false);
    });
  });
});
