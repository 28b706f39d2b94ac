/** Downsampling for the charts: pure, so it is tested without a canvas. */

/**
 * Keeps at most ~2 points per pixel: each bucket contributes its min and max, so spikes and
 * NaN markers survive downsampling while the raw data stays untouched (and exportable).
 */
export function downsample(xs: number[], series: (number | null)[][], width: number): { xs: number[]; series: (number | null)[][] } {
  const buckets = Math.max(50, Math.floor(width));
  if (xs.length <= buckets * 2) return { xs, series };
  const size = xs.length / buckets;
  const keep = new Set<number>();
  for (let b = 0; b < buckets; b++) {
    const start = Math.floor(b * size);
    const end = Math.min(xs.length, Math.floor((b + 1) * size));
    for (const s of series) {
      let lo = -1;
      let hi = -1;
      for (let i = start; i < end; i++) {
        const v = s[i];
        if (v === null || v === undefined) continue;
        if (!Number.isFinite(v)) keep.add(i);
        else {
          if (lo < 0 || v < s[lo]!) lo = i;
          if (hi < 0 || v > s[hi]!) hi = i;
        }
      }
      if (lo >= 0) keep.add(lo);
      if (hi >= 0) keep.add(hi);
    }
  }
  const idx = [...keep].sort((a, b) => a - b);
  return { xs: idx.map((i) => xs[i]!), series: series.map((s) => idx.map((i) => s[i] ?? null)) };
}
