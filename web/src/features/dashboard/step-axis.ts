/**
 * The charts' x-axis: training steps, not flushes. A flush (one step record) holds
 * `loss.numBatches` training steps; the x of a flush is the count of training steps done by
 * its end. Flushes whose count is unknown (read from the chart columns, or never sent), and
 * flushes missing from the list, count as the median of the known ones.
 */

/** What the axis needs of a step record. */
export interface AxisRow {
  stepIndex: number;
  loss: { numBatches: number | null } | null;
}

export interface StepAxis {
  xs: number[];
  /** `training step` when any flush said how many it held; else the flush index. */
  unit: 'training step' | 'flush';
  /** Whether every x was counted rather than estimated. */
  exact: boolean;
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

const batchesOf = (row: AxisRow) => {
  const n = row.loss?.numBatches;
  return typeof n === 'number' && Number.isFinite(n) && n > 0 ? n : null;
};

/** The x of each row (rows in ascending `stepIndex`). */
export function trainingStepAxis(rows: readonly AxisRow[]): StepAxis {
  const known = rows.map(batchesOf).filter((n): n is number => n !== null);
  if (!known.length) return { xs: rows.map((r) => r.stepIndex), unit: 'flush', exact: true };
  const typical = median(known);
  const xs: number[] = new Array(rows.length);
  let exact = true;
  let done = 0;
  let previous = -1;
  rows.forEach((row, i) => {
    const missing = Math.max(0, row.stepIndex - previous - 1);
    const n = batchesOf(row);
    if (missing || n === null) exact = false;
    done += missing * typical + (n ?? typical);
    xs[i] = Math.round(done);
    previous = row.stepIndex;
  });
  return { xs, unit: 'training step', exact };
}
