import type { DiagnosticContext, ModelInfo, StepRecord } from './types.ts';
import { isFiniteNumber, trainLoss } from './rules/util.ts';

/** How many recent steps the rules see, and how many first steps are kept as baseline. */
export const HISTORY_WINDOW = 256;
export const EARLY_WINDOW = 10;

/**
 * A session's recent history, kept in memory so that a step is judged without re-reading
 * the session from the database.
 */
export class SessionHistory {
  private readonly recent: StepRecord[] = [];
  private readonly early: StepRecord[] = [];
  private total = 0;
  private best: { value: number; stepIndex: number } | null = null;
  private unjudged = 0;
  private errorsSinceRun = 0;
  private errorsTotal = 0;
  private readonly errorMessages: string[] = [];
  model: ModelInfo | null = null;

  /** Adds a step (steps arrive in any order; the window keeps them sorted by index). */
  add(step: StepRecord): void {
    this.total++;
    this.unjudged++;
    insertSorted(this.recent, step);
    if (this.recent.length > HISTORY_WINDOW) this.recent.shift();
    if (this.early.length < EARLY_WINDOW || step.step_index < this.early[this.early.length - 1]!.step_index) {
      insertSorted(this.early, step);
      if (this.early.length > EARLY_WINDOW) this.early.pop();
    }
    const loss = trainLoss(step);
    if (isFiniteNumber(loss) && (this.best === null || loss < this.best.value)) this.best = { value: loss, stepIndex: step.step_index };
  }

  /**
   * After loading a window of a stored session: the session's true step count, with the
   * loaded steps marked as judged.
   */
  restore(totalSteps: number): void {
    this.total = Math.max(totalSteps, this.recent.length);
    this.unjudged = 0;
  }

  /**
   * After syncing from the database: how many steps of the window no diagnostic run has
   * judged yet (steps stored by any replica), and the session's error-level log lines.
   */
  setUnjudged(steps: number, errorLogs: { total: number; sinceLastRun: number; recentMessages: readonly string[] }): void {
    this.unjudged = steps;
    this.errorsTotal = errorLogs.total;
    this.errorsSinceRun = errorLogs.sinceLastRun;
    this.errorMessages.splice(0, this.errorMessages.length, ...errorLogs.recentMessages.slice(-5));
  }

  /** The lowest finite training loss seen, remembered beyond the window (stored with the session). */
  get bestLoss(): { value: number; stepIndex: number } | null {
    return this.best;
  }

  /** Restores the best loss of steps outside the window (a lower one in the window wins). */
  rememberBest(best: { value: number; stepIndex: number } | null): void {
    if (best && (this.best === null || best.value < this.best.value)) this.best = best;
  }

  /** Counts an error-level log line. */
  addErrorLog(message: string): void {
    this.errorsSinceRun++;
    this.errorsTotal++;
    this.errorMessages.push(message);
    if (this.errorMessages.length > 5) this.errorMessages.shift();
  }

  /** The newest step index seen, or null before the first step. */
  get latestStepIndex(): number | null {
    return this.recent.length ? this.recent[this.recent.length - 1]!.step_index : null;
  }

  /** The context for a diagnostic run; marks everything in it as judged. */
  takeContext(): DiagnosticContext {
    const ctx: DiagnosticContext = {
      steps: this.recent.slice(),
      newSteps: Math.min(this.unjudged, this.recent.length),
      early: this.early.slice(),
      totalSteps: this.total,
      bestLoss: this.best,
      model: this.model,
      errorLogs: { sinceLastRun: this.errorsSinceRun, total: this.errorsTotal, recentMessages: this.errorMessages.slice() },
    };
    this.unjudged = 0;
    this.errorsSinceRun = 0;
    return ctx;
  }
}

function insertSorted(list: StepRecord[], step: StepRecord): void {
  let i = list.length;
  while (i > 0 && list[i - 1]!.step_index > step.step_index) i--;
  list.splice(i, 0, step);
}
