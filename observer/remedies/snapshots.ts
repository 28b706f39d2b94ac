import * as tf from '@tensorflow/tfjs';

/** An optimizer's slot as tfjs keeps it (`accumulatedFirstMoment[i]`, `accumulations[i]`...). */
interface OptimizerSlot {
  variable: tf.Variable;
}

/** One snapshot: the values of the variables at a flush, and the optimizer's slot lists and iteration count then. */
interface Snapshot {
  step: number;
  /** The state the run started with: kept until the model changes, whatever the limit. */
  pinned: boolean;
  values: [tf.Variable, tf.Tensor][];
  /** The optimizer's slot lists and their lengths: slots made later are dropped on restore (tfjs makes them again, fresh). */
  slotLists: [OptimizerSlot[], number][];
  iterations: number | null;
}

/**
 * Whether the state at a flush judged healthy is one a rollback should return to, by the
 * same measure as the server's last good flush (`server/diagnostics/rules/remedies.ts`): its
 * mean loss finite and within 1.5x the best so far, and the learning rate not risen 1.5x or
 * more since the flush before (a spike's first flush may still look fine: its damage shows
 * later, and the server then rolls back to before the rise). Unknown figures do not object.
 */
export function worthKeeping(f: { loss: number | null; best: number | null; learningRate: number | null; previousLearningRate: number | null }): boolean {
  if (f.loss !== null && !Number.isFinite(f.loss)) return false;
  if (f.loss !== null && f.best !== null && f.loss > 1.5 * Math.abs(f.best)) return false;
  return !(f.learningRate !== null && f.previousLearningRate !== null && f.learningRate >= 1.5 * f.previousLearningRate);
}

const isSlotList = (v: unknown): v is OptimizerSlot[] =>
  Array.isArray(v) && v.every((x) => x != null && typeof x === 'object' && (x as OptimizerSlot).variable instanceof tf.Variable);

/**
 * Snapshots of the weights and the optimizer's state kept on the device, for a rollback
 * (issue 15). A snapshot is `tf.clone` of each variable: a new handle on the same device
 * buffer (no copy, no kernel, no readback), which keeps the old values alive once the
 * optimizer assigns new ones. So taking one costs nothing measurable, and each kept snapshot
 * holds at most one extra copy of the weights and the optimizer's slots. At most `keep` are
 * kept, keyed by the flush they were taken at; older ones are disposed.
 *
 * The optimizer's state is found on the optimizer itself (tfjs 4.22): every `tf.Variable` field
 * (Adam's `accBeta1`, Adamax's `iteration`...), every list of slots (`accumulatedFirstMoment`,
 * `accumulations`...) and the iteration count. Restoring assigns the kept values back to the
 * same variables (again no copy), so no variable is made or leaked.
 */
export class SnapshotStore {
  private snapshots: Snapshot[] = [];

  constructor(private readonly keep = 2) {}

  /** The flushes snapshots are kept for, oldest first. */
  get steps(): number[] {
    return this.snapshots.map((s) => s.step);
  }

  /** Device bytes the kept snapshots refer to (an upper bound of what they hold beyond the live weights). */
  get bytes(): number {
    return this.snapshots.reduce((n, s) => n + s.values.reduce((m, [, t]) => m + t.size * 4, 0), 0);
  }

  /**
   * Keeps the current values of `variables` and of the optimizer's state as the snapshot of
   * flush `step`. `pinned`: the state the run started with (step -1), kept besides the last
   * `keep` flushes'.
   */
  take(step: number, variables: readonly tf.Variable[], optimizer: tf.Optimizer | null, pinned = false): void {
    const fields = optimizer ? Object.values(optimizer as unknown as Record<string, unknown>) : [];
    const slotLists = fields.filter(isSlotList);
    const optimizerVariables = [...fields.filter((v): v is tf.Variable => v instanceof tf.Variable), ...slotLists.flatMap((l) => l.map((s) => s.variable))];
    const all = [...new Set([...variables, ...optimizerVariables])].filter((v) => !v.isDisposed);
    const iterations = optimizer ? (optimizer as unknown as { iterations_?: unknown }).iterations_ : null;
    this.drop((s) => s.step >= step);
    this.snapshots.push({
      step,
      pinned,
      values: all.map((v) => [v, tf.clone(v)]),
      slotLists: slotLists.map((l) => [l, l.length]),
      iterations: typeof iterations === 'number' ? iterations : null,
    });
    const flushes = this.snapshots.filter((s) => !s.pinned);
    if (flushes.length > this.keep) this.drop((s) => s === flushes[0]);
  }

  /**
   * Restores the newest snapshot taken at or before flush `toStep` (null: the newest of all)
   * into the same variables and optimizer; snapshots newer than it are dropped (they belong to
   * the run that is being undone). Returns the flush restored, or null when none qualifies.
   */
  restore(toStep: number | null, optimizer: tf.Optimizer | null): number | null {
    const target = [...this.snapshots].reverse().find((s) => toStep === null || s.step <= toStep);
    if (!target) return null;
    for (const [list, length] of target.slotLists) {
      // Slots made after the snapshot (a variable first updated since) are made again, fresh, by tfjs.
      tf.dispose(list.splice(length).map((s) => s.variable));
    }
    for (const [variable, value] of target.values) if (!variable.isDisposed) variable.assign(value);
    if (optimizer && target.iterations !== null) (optimizer as unknown as { iterations_: number }).iterations_ = target.iterations;
    this.drop((s) => s.step > target.step);
    return target.step;
  }

  /** Disposes every snapshot. */
  dispose(): void {
    this.drop(() => true);
  }

  private drop(which: (s: Snapshot) => boolean): void {
    const [gone, kept] = [this.snapshots.filter(which), this.snapshots.filter((s) => !which(s))];
    this.snapshots = kept;
    tf.dispose(gone.flatMap((s) => s.values.map(([, t]) => t)));
  }
}
