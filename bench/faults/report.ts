/** Tables of the generated family of `bench:faults`: per split and fault family, and the healthy twins. */
import type { Split } from './generated.ts';

/** What one generated fault run and its healthy twin showed. */
export interface GeneratedRecord {
  split: Split;
  family: string;
  seed: number;
  recipe: string;
  steps: number;
  timing: string;
  manifested: boolean;
  detected: boolean;
  /** The first serious issue (warning or critical) was in an expected category. */
  firstRightCategory: boolean;
  /** Named the layer at fault (null when no layer is). */
  rightLayer: boolean | null;
  stepsToDetect: number | null;
  /** The oracle says training failed (non-finite, diverged, at chance, not learning). */
  ruined: boolean;
  /** The fault run reached `pending`, and at which training step first. */
  paused: boolean;
  pauseStep: number | null;
  /** Serious issues of the fault run, `code@layer`. */
  issues: string[];
  /** The twin's serious issues, `code@layer at step N`, and whether it paused. */
  twinWarnings: string[];
  twinPaused: boolean;
  /** The twin learned (its loss fell by 10%), or started from trained weights: it counts as a healthy run. */
  twinHealthy: boolean;
}

const median = (xs: number[]) => (xs.length ? [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]! : null);
const p90 = (xs: number[]) => (xs.length ? [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * 0.9))]! : null);
const pct = (a: number, b: number) => (b ? Math.round((1000 * a) / b) / 10 : null);

/** Per split: a row per family, the healthy twins, and the totals the issue's goals are stated in. */
export function summarise(records: readonly GeneratedRecord[]) {
  const splits = [...new Set(records.map((r) => r.split))];
  return Object.fromEntries(
    splits.map((split) => {
      const mine = records.filter((r) => r.split === split);
      const families = [...new Set(mine.map((r) => r.family))].map((family) => {
        const rs = mine.filter((r) => r.family === family);
        const m = rs.filter((r) => r.manifested);
        const layered = m.filter((r) => r.rightLayer !== null);
        const delays = m.filter((r) => r.stepsToDetect !== null).map((r) => r.stepsToDetect!);
        const ruined = m.filter((r) => r.ruined);
        const pauseAt = ruined.filter((r) => r.pauseStep !== null).map((r) => r.pauseStep! / r.steps);
        return {
          family,
          runs: rs.length,
          manifested: m.length,
          detected: m.filter((r) => r.detected).length,
          first_issue_right_category: m.filter((r) => r.firstRightCategory).length,
          right_layer: layered.length ? `${layered.filter((r) => r.rightLayer).length}/${layered.length}` : '-',
          steps_to_detect_median: median(delays),
          steps_to_detect_p90: p90(delays),
          pct_of_run_median: median(m.filter((r) => r.stepsToDetect !== null).map((r) => (100 * r.stepsToDetect!) / r.steps)),
          paused: m.filter((r) => r.paused).length,
          ruined: ruined.length,
          ruined_paused: ruined.filter((r) => r.paused).length,
          ruined_pause_pct_of_run_median: pauseAt.length ? Math.round(1000 * median(pauseAt)!) / 10 : null,
          missed: m.filter((r) => !r.detected).map((r) => `#${r.seed} ${r.recipe}: ${r.issues.join(' ') || 'nothing'}`),
        };
      });
      const m = mine.filter((r) => r.manifested);
      const layered = m.filter((r) => r.rightLayer !== null);
      const ruined = m.filter((r) => r.ruined);
      const fromStart = ruined.filter((r) => r.timing !== 'builds_up' && r.timing !== 'non_finite' && r.pauseStep !== null);
      const healthyRuns = mine.filter((r) => r.twinHealthy);
      const healthyWarned = healthyRuns.filter((r) => r.twinWarnings.length);
      const totals = {
        fault_runs: mine.length,
        manifested: m.length,
        detected_pct: pct(m.filter((r) => r.detected).length, m.length),
        worst_family_detected_pct: Math.min(...families.filter((f) => f.manifested).map((f) => pct(f.detected, f.manifested)!)),
        first_issue_right_category_pct: pct(m.filter((r) => r.firstRightCategory).length, m.length),
        right_layer_pct: pct(layered.filter((r) => r.rightLayer).length, layered.length),
        healthy_runs: healthyRuns.length,
        twins_that_did_not_learn: mine.length - healthyRuns.length,
        healthy_with_warning_pct: pct(healthyWarned.length, healthyRuns.length),
        healthy_paused: healthyRuns.filter((r) => r.twinPaused).length,
        ruined: ruined.length,
        ruined_paused_pct: pct(ruined.filter((r) => r.paused).length, ruined.length),
        ruined_from_start_pause_pct_of_run_median: fromStart.length ? Math.round(1000 * median(fromStart.map((r) => r.pauseStep! / r.steps))!) / 10 : null,
      };
      const healthy = healthyWarned.map((r) => `${r.family} #${r.seed} twin (${r.recipe}): ${r.twinWarnings.join('; ')}${r.twinPaused ? ' [PAUSED]' : ''}`);
      return [split, { totals, families, healthy_warnings: healthy }];
    }),
  );
}
