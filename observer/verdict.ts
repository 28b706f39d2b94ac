import type { Clock } from './clock.ts';
import { PendingTimeoutError, SessionStoppedError } from './errors.ts';
import type { PendingIssue } from './record.ts';
import { topRemedies, type Remedy } from './remedies/types.ts';
import type { StatusEvent } from './transport/connection.ts';

/** What `onPending` receives when the server pauses training. */
export interface PendingPrompt {
  sessionId: number;
  /** The step (flush) whose diagnostics paused the session. */
  stepIndex: number | null;
  issues: PendingIssue[];
  healthScore: number | null;
  /**
   * The remedies of the top issue that proposes any (the most severe, then the most confident),
   * each with its `reason` and `summary`: what `resume(prompt.remedies)` applies. Empty when no
   * issue proposes one. Every issue's own are on `issues[i].remedies`.
   */
  remedies: Remedy[];
  /** When the observer gives up waiting (ms since epoch, on the observer's clock): then it checkpoints and stops, or applies `remedies` with `onPendingTimeout: 'remedy'`. */
  deadline: number;
  /**
   * Resumes training; with `remedies` (some of `remedies` or of an issue's), the observer applies
   * them before the next step and reports to the server what it applied.
   */
  resume(remedies?: Remedy[]): Promise<void>;
  stop(): Promise<void>;
}

/** A decision sent to the server; a resume may carry remedies and say who chose them. */
export type Decide = (action: 'resume' | 'stop', remedies?: Remedy[], source?: string) => Promise<void>;

/** What the gate needs from the observer around it. */
export interface VerdictGateOptions {
  clock: Clock;
  /** Seconds to wait for the verdict on a flush before training goes on. */
  verdictTimeout: number;
  /** Seconds to wait for a decision while pending before checkpointing and stopping. */
  pendingTimeout: number;
  /** The session's id once it exists on the server. */
  sessionId(): number | null;
  /** Whether status events can arrive now (the socket is up). */
  connected(): boolean;
  /** Sends a decision to the server. */
  decide: Decide;
  /** What the pending timeout does: `'stop'` checkpoints and stops; `'remedy'` resumes with the top issue's remedies when there are any. */
  onPendingTimeout: 'stop' | 'remedy';
  /** Saves the model for a run stopped by the pending timeout; where it went, or null. */
  checkpoint(): Promise<string | null>;
  /** Whether the observer was closed (a prompt's answer may then never arrive). */
  closed(): boolean;
  warn(msg: string): void;
  onPending?: (prompt: PendingPrompt) => void;
  onPaused?: (paused: boolean) => void;
}

/**
 * The verdict gate and the pause hold: after a flush, waits for the server's verdict on that
 * step (status events say which step they judged, so a stale `running` never releases a paused
 * run) and acts on it: `running` goes on, `pending` prompts and waits for a decision up to
 * `pendingTimeout` (then checkpoints, stops and throws {@link PendingTimeoutError}), `paused`
 * holds with no timeout, a stop throws {@link SessionStoppedError}. Timeouts run on the clock.
 */
export class VerdictGate {
  /** The session's last known status. */
  status: StatusEvent['status'] = 'running';
  private lastEvent: StatusEvent | null = null;
  /** Waiters for a status event; called with null when a step was dropped, so one waiting for that step's verdict stops. */
  private readonly waiters = new Set<(e: StatusEvent | null) => void>();
  /** Flushes the sender left out for good (too big for any message): no verdict comes for them. */
  private readonly droppedSteps = new Set<number>();

  constructor(private readonly opts: VerdictGateOptions) {}

  /** A status event of the session (from the connection's watch). */
  onStatus(e: StatusEvent): void {
    this.lastEvent = e;
    this.status = e.status;
    for (const w of [...this.waiters]) w(e);
  }

  /** A step the sender left out for good: nobody waits for its verdict. */
  onStepDropped(stepIndex: number): void {
    this.droppedSteps.add(stepIndex);
    for (const w of [...this.waiters]) w(null);
  }

  /**
   * Waits for the verdict on the flush `stepIndex` and acts on it (see the class). Returns true
   * when the server judged the flush healthy (`running` at once, no pause), false otherwise.
   */
  async awaitVerdict(stepIndex: number): Promise<boolean> {
    if (this.opts.sessionId() === null || !this.opts.connected()) return false;
    // A state (pending, stopped...) applies whatever step it came with; `running` only about this step or later.
    const decisive = (e: StatusEvent) => e.status !== 'analyzing' && (e.status !== 'running' || (e.stepIndex ?? -1) >= stepIndex);
    const current = this.lastEvent && this.lastEvent.status !== 'running' && decisive(this.lastEvent) ? this.lastEvent : null;
    // A step too big for any message never reaches the server (the sender said so): no verdict to wait for.
    const dropped = () => this.droppedSteps.has(stepIndex);
    const verdict = current ?? (dropped() ? null : await this.nextStatus(decisive, this.opts.verdictTimeout, dropped));
    if (!verdict && dropped()) return false;
    if (!verdict) {
      this.opts.warn(`no verdict on step ${stepIndex} within ${this.opts.verdictTimeout} s; training goes on`);
      return false;
    }
    await this.act(verdict);
    return verdict.status === 'running';
  }

  /** Returns at once unless the session is paused; then holds until it is resumed (throws if it is stopped). */
  async holdIfPaused(): Promise<void> {
    if (this.status === 'paused' && this.lastEvent) await this.act(this.lastEvent);
  }

  /** Resolves with the next status event that satisfies `accept`, or null after `seconds` or once `abandon()` holds (checked when a step is dropped). */
  private nextStatus(accept: (e: StatusEvent) => boolean, seconds: number, abandon: () => boolean = () => false): Promise<StatusEvent | null> {
    return new Promise((resolve) => {
      const done = (e: StatusEvent | null) => {
        cancel();
        this.waiters.delete(waiter);
        resolve(e);
      };
      const waiter = (e: StatusEvent | null) => (e ? accept(e) : abandon()) && done(e);
      const cancel = Number.isFinite(seconds) ? this.opts.clock.after(seconds * 1000, () => done(null)) : () => {};
      this.waiters.add(waiter);
    });
  }

  private async act(e: StatusEvent): Promise<void> {
    if (e.status === 'running' || e.status === 'analyzing') return;
    const sessionId = this.opts.sessionId();
    if (e.status === 'paused') {
      // A person paused: hold, with no timeout, until someone resumes or stops.
      this.opts.onPaused?.(true);
      const next = await this.nextStatus((x) => x.status !== 'paused' && x.status !== 'analyzing', Infinity);
      this.opts.onPaused?.(false);
      return this.act(next!);
    }
    if (e.status !== 'pending') throw new SessionStoppedError(e.status, sessionId);
    const issues: PendingIssue[] = e.run?.issues ?? [];
    const { pendingTimeout } = this.opts;
    // The wait starts before the prompt is shown, so a prompt that answers (or moves a test's clock) at once is heard.
    const decision = this.nextStatus((x) => x.status !== 'pending' && x.status !== 'analyzing', pendingTimeout);
    const remedies = topRemedies(issues);
    this.opts.onPending?.({
      sessionId: sessionId!,
      stepIndex: e.stepIndex,
      issues,
      healthScore: e.run?.healthScore ?? null,
      remedies,
      deadline: this.opts.clock.now() + pendingTimeout * 1000,
      resume: (chosen) => this.decideFromPrompt('resume', chosen?.length ? chosen : undefined),
      stop: () => this.decideFromPrompt('stop'),
    });
    const next = await decision;
    if (next) return this.act(next);
    if (this.opts.onPendingTimeout === 'remedy' && remedies.length) {
      // Unattended: resume with the top issue's remedies instead of stopping (a decision made meanwhile wins).
      const resumed = this.nextStatus((x) => x.status !== 'pending' && x.status !== 'analyzing', Infinity);
      this.opts.warn(`no decision within ${pendingTimeout} s; resuming with the top issue's remedies (${remedies.map((r) => r.summary ?? r.kind).join(', ')})`);
      try {
        await this.opts.decide('resume', remedies, 'observer:timeout');
        return this.act((await resumed)!);
      } catch (err) {
        this.opts.warn(`could not resume with remedies (${(err as Error).message}); stopping`);
      }
    }
    const checkpoint = await this.opts.checkpoint();
    await this.opts.decide('stop').catch(() => {});
    throw new PendingTimeoutError(pendingTimeout, issues, checkpoint);
  }

  /** A prompt's button: once the decision took effect the observer may close before its answer arrives; that is no failure. */
  private async decideFromPrompt(action: 'resume' | 'stop', remedies?: Remedy[]): Promise<void> {
    try {
      await this.opts.decide(action, remedies, remedies ? 'observer:prompt' : undefined);
    } catch (err) {
      if (!this.opts.closed()) throw err;
    }
  }
}
