/** Metric values arrive as numbers or "NaN"/"Infinity"/"-Infinity". */
export function metric(v: unknown): number | null {
  if (typeof v === 'number') return v;
  if (v === 'NaN') return Number.NaN;
  if (v === 'Infinity') return Infinity;
  if (v === '-Infinity') return -Infinity;
  return null;
}
