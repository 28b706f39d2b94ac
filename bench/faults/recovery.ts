/**
 * The recovery section of `bench:faults` (issue 15): a fault run that paused and was ruined is
 * trained again, resumed at each pause with the top issue's remedies, and judged against its
 * healthy twin and against the same run resumed without a fix.
 */
import type { Outcome } from './scenarios.ts';

/** What one remedied run showed, beside the same run resumed without a fix. */
export interface RecoveryRecord {
  /** `hand-written`, or the generated split. */
  suite: string;
  family: string;
  seed: number;
  steps: number;
  /** The training step of the first pause of the remedied run. */
  pauseStep: number | null;
  /** The first pause proposed remedies (the top issue had some). */
  remediable: boolean;
  /** The fault is one a remedy is meant to fix (`Scenario.fixableBy`). */
  fixable: boolean;
  /** What was chosen at each pause (`rollback+scale_learning_rate`), and what the observer said of each. */
  chosen: string[];
  results: string[];
  /** Judged by {@link recovered}: with the remedies, and the same run resumed without a fix. */
  recovered: boolean;
  recoveredWithoutFix: boolean;
  final: string;
  withoutFix: string;
  twin: string;
  /** Wall time of the remedied run (what the section adds to the bench). */
  seconds: number;
}

const finalVal = (o: Outcome) => o.finalValLoss;

/**
 * Whether a run recovered: its final loss finite, and its result within 5% of the healthy
 * twin's (a classifier's validation accuracy at least 95% of the twin's; a regression's
 * validation loss at most 1.05x the twin's), or its validation loss at most 1.05x the best the
 * same run had before the fault (`bestBefore`, when the fault has an onset). Validation, not
 * train loss: a run that memorises its training set has not recovered.
 */
export function recovered(o: Outcome, twin: Outcome, bestBefore: number | null): boolean {
  if (!Number.isFinite(o.finalLoss) || !Number.isFinite(finalVal(o))) return false;
  const classifier = Number.isFinite(o.valAccuracy) && Number.isFinite(twin.valAccuracy);
  const likeTwin = classifier ? o.valAccuracy >= 0.95 * twin.valAccuracy : finalVal(o) <= 1.05 * finalVal(twin);
  return likeTwin || (bestBefore !== null && finalVal(o) <= 1.05 * bestBefore);
}

/** The best validation loss at the flushes that ended before the fault's onset (null: none, a fault from the start). */
export function bestBeforeFault(o: Outcome, flushedAt: readonly number[], onset: number): number | null {
  const before = o.valTrace.filter((v, i) => (flushedAt[i] ?? Infinity) < onset && Number.isFinite(v));
  return before.length ? Math.min(...before) : null;
}

export const briefOutcome = (o: Outcome) =>
  `loss ${o.finalLoss.toPrecision(3)}, val loss ${o.finalValLoss.toPrecision(3)}${Number.isFinite(o.valAccuracy) ? `, val acc ${o.valAccuracy.toPrecision(3)}` : ''}`;

const pct = (a: number, b: number) => (b ? Math.round((1000 * a) / b) / 10 : null);

/**
 * Per suite and family: remediable ruined runs, how many recovered with the remedies and how
 * many the same runs did without a fix, and the compute saved against restarting from scratch
 * at the pause. A restart trains `pauseStep + steps` (the steps up to the pause are lost); the
 * remedied run trains `steps` when it recovered, and `2 x steps` when it did not (it is
 * restarted after all, at its end).
 */
export function summariseRecovery(records: readonly RecoveryRecord[]) {
  const suites = [...new Set(records.map((r) => r.suite))];
  return Object.fromEntries(
    suites.map((suite) => {
      const mine = records.filter((r) => r.suite === suite);
      const row = (rs: readonly RecoveryRecord[]) => {
        const rem = rs.filter((r) => r.remediable);
        const restart = rem.reduce((n, r) => n + (r.pauseStep ?? 0) + r.steps, 0);
        const remedied = rem.reduce((n, r) => n + (r.recovered ? r.steps : 2 * r.steps), 0);
        return {
          ruined_paused: rs.length,
          remediable: rem.length,
          recovered_with_remedies: rem.filter((r) => r.recovered).length,
          recovered_without_fix: rem.filter((r) => r.recoveredWithoutFix).length,
          recovered_pct: pct(rem.filter((r) => r.recovered).length, rem.length),
          without_fix_pct: pct(rem.filter((r) => r.recoveredWithoutFix).length, rem.length),
          compute_saved_pct: restart ? Math.round(1000 * (1 - remedied / restart)) / 10 : null,
          seconds: Math.round(rs.reduce((n, r) => n + r.seconds, 0)),
        };
      };
      const families = [...new Set(mine.map((r) => r.family))].map((family) => ({ family, fixable: mine.find((r) => r.family === family)!.fixable, ...row(mine.filter((r) => r.family === family)) }));
      return [suite, { families, totals: { fixable_faults: row(mine.filter((r) => r.fixable)), all_faults_with_remedies: row(mine) }, runs: mine }];
    }),
  );
}
