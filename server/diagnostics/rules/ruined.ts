import type { JsonObject } from '../../lib/extended-json.ts';
import type { DiagnosticContext, Rule, StepRecord } from '../types.ts';
import { confidence, finiteLosses, fmt, isFiniteNumber, issue, lastFiniteLosses, num, rollingMedian, startKind, startLoss } from './util.ts';

/** Flushes in a row a ruined state must hold before it pauses the run. */
const RUINED_FLUSHES = 3;
/** Diverged: every one of the last flushes this many times the highest of the first three. */
const DIVERGED_FACTOR = 3;
/** At chance: validation accuracy within this of 1/K. */
const CHANCE_MARGIN = 0.05;

const ACCURACY = /^(val_)?(acc|accuracy|categorical_accuracy|sparse_categorical_accuracy)$/i;

/** The validation accuracy of a flush, when the client sends one. */
function valAccuracy(s: StepRecord): number | undefined {
  const val = s.loss?.val;
  if (!val) return undefined;
  const key = Object.keys(val).find((k) => ACCURACY.test(k));
  return key === undefined ? undefined : num(val[key] ?? undefined);
}

/** The number of classes from the model's output layer (the last layer with units), when it is a classifier. */
function classes(ctx: DiagnosticContext): number | undefined {
  const layers = ctx.model?.architecture?.layers as JsonObject | undefined;
  if (!layers || typeof layers !== 'object') return undefined;
  const rows = Object.values(layers).filter((l): l is JsonObject => !!l && typeof l === 'object' && isFiniteNumber((l as JsonObject).units));
  const units = num(rows[rows.length - 1]?.units as number | undefined);
  return units === undefined ? undefined : units === 1 ? 2 : units;
}

/**
 * The run is ruined, and every further step is wasted: critical, so it pauses for a decision
 * with the evidence. Each way needs 3 flushes in a row:
 * - diverged: the train loss at each of the last 3 flushes is 3x the highest of the run's
 *   first 3 flushes (a loss that climbs this far does not come back by itself);
 * - collapsed to chance: validation accuracy within 5 points of 1/K (K from the output layer)
 *   at each of the last 3 flushes, after the run either reached 20 points above chance or
 *   its loss spiked to 1.5x where it started (a step far too large that killed the network,
 *   not a new model that has not started learning yet);
 * - collapsed to the start (a run from scratch): the loss had fallen to half of where it started (median of 3
 *   flushes) and is back at 95% of it or above at each of the last 3 flushes.
 * A NaN loss pauses through its own rule.
 */
export const ruinedRun: Rule = (ctx) => {
  const window = finiteLosses(ctx.steps).map((l) => l.value);
  const first = finiteLosses(ctx.early).slice(0, 3).map((l) => l.value);
  const start = startLoss(ctx);
  const last = lastFiniteLosses(ctx.steps, RUINED_FLUSHES);
  if (last.length < RUINED_FLUSHES || first.length === 0 || start === undefined || ctx.steps.length < RUINED_FLUSHES + 1) return [];
  const step = last[last.length - 1]!.step;
  const recent = last.map((l) => l.value);
  const ceiling = Math.max(...first);
  const make = (title: string, description: string, sure: number, metricValue: Record<string, number>) => [
    issue({
      code: 'loss.ruined',
      severity: 'critical',
      category: 'loss',
      title,
      description,
      suggestion: 'Stop this run and restart from the last good checkpoint with: 1) a learning rate 3-10x lower, 2) warmup and gradient clipping, 3) a check of the data pipeline (labels, normalisation) if it never learned.',
      confidence: sure,
      epochIndex: step,
      metricValue,
    }),
  ];
  if (ceiling > 0 && recent.every((v) => v >= DIVERGED_FACTOR * ceiling))
    return make(
      'Training diverged',
      `The train loss was ${recent.map(fmt).join(', ')} at the last ${RUINED_FLUSHES} flushes (to step ${step}), each over ${DIVERGED_FACTOR}x the highest of the run's first flushes (${fmt(ceiling)}). Threshold: ${DIVERGED_FACTOR}x for ${RUINED_FLUSHES} flushes in a row. A loss this far up does not come back by itself; every further step is wasted.`,
      confidence({ margin: Math.min(...recent) / (DIVERGED_FACTOR * ceiling), decisive: 3 }),
      { loss: recent[recent.length - 1]!, first_flushes_max: ceiling },
    );
  const k = classes(ctx);
  const accs = ctx.steps.slice(-RUINED_FLUSHES).map(valAccuracy);
  if (k !== undefined && k >= 2 && accs.every(isFiniteNumber)) {
    const chance = 1 / k;
    const all = ctx.steps.map(valAccuracy).filter(isFiniteNumber);
    const bestAcc = Math.max(...all);
    const spiked = Math.max(...window) >= 1.5 * start;
    if ((accs as number[]).every((a) => a <= chance + CHANCE_MARGIN) && (bestAcc >= chance + 0.2 || spiked))
      return make(
        'Training collapsed to chance',
        `Validation accuracy was ${(accs as number[]).map(fmt).join(', ')} at the last ${RUINED_FLUSHES} flushes (to step ${step}), within ${100 * CHANCE_MARGIN} points of chance (1/${k} = ${fmt(chance)}), after ${bestAcc >= chance + 0.2 ? `reaching ${fmt(bestAcc)}` : `the loss spiked to ${fmt(Math.max(...window))}, ${fmt(Math.max(...window) / start)}x its start of ${fmt(start)}`}. Thresholds: ${RUINED_FLUSHES} flushes in a row at chance after 20 points above it or a 1.5x spike. The network no longer learns.`,
        confidence({ seen: RUINED_FLUSHES, of: RUINED_FLUSHES, margin: (chance + CHANCE_MARGIN) / Math.max(...(accs as number[]), 1e-9), decisive: 2 }),
        { val_accuracy: accs[accs.length - 1]!, chance, best_val_accuracy: bestAcc },
      );
  }
  // Only for a new model, whose start (near ln K) is a level to fall back to; a trained
  // model's batches are too spread for its start to be one.
  if (startKind(ctx) !== 'scratch') return [];
  const smoothed = rollingMedian(window, 3);
  const low = smoothed.length ? Math.min(...smoothed) : Infinity;
  if (start > 0 && low <= 0.5 * start && recent.every((v) => v >= 0.95 * start))
    return make(
      'Training collapsed back to where it started',
      `The train loss had fallen to ${fmt(low)} (median of 3 flushes), half of the ${fmt(start)} the run started from, and was back at ${recent.map(fmt).join(', ')} at the last ${RUINED_FLUSHES} flushes (to step ${step}). Thresholds: down to 50% of the start, then at 95% of it or above for ${RUINED_FLUSHES} flushes in a row. What it learned is lost.`,
      confidence({ margin: Math.min(...recent) / (0.95 * start), decisive: 1.5 }),
      { loss: recent[recent.length - 1]!, lowest_loss: low, start_loss: start },
    );
  return [];
};

