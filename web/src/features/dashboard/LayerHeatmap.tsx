import { useEffect, useMemo, useRef, useState } from 'react';
import { metric } from '../../graphql/metric.ts';
import type { StepRow } from '../../graphql/queries.ts';
import { layerHealthOf } from './channels.ts';

const METRICS = { gradient_norm_mean: 'gradient norm (log10)', activation_std: 'activation std (log10)', weight_sparsity: 'weight sparsity', dead_fraction: 'dead units' } as const;
type Metric = keyof typeof METRICS;

/** Per-layer health over time: one row per layer, one column per flush with layer health. NaN cells are red. */
export function LayerHeatmap({ steps }: { steps: StepRow[] }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const [measure, setMeasure] = useState<Metric>('gradient_norm_mean');
  // Memoised: the canvas is redrawn when the steps change, not on every render of the page.
  const withHealth = useMemo(
    () =>
      steps.flatMap((s) => {
        const health = layerHealthOf(s.layerHealth);
        return health ? [health] : [];
      }),
    [steps],
  );
  const layers = Object.keys(withHealth.at(-1) ?? {});

  useEffect(() => {
    const c = canvas.current;
    if (!c || !layers.length) return;
    const cols = Math.min(withHealth.length, 400);
    const picked = withHealth.slice(-cols);
    c.width = cols;
    c.height = layers.length;
    const ctx = c.getContext('2d')!;
    const log = measure === 'gradient_norm_mean' || measure === 'activation_std';
    const values = picked.map((health) => layers.map((l) => {
      const v = metric(health[l]?.[measure]);
      // A non-finite measure is drawn red, whichever sign it had.
      const n = v !== null && !Number.isFinite(v) ? Number.NaN : v;
      return n === null ? null : log ? (n > 0 ? Math.log10(n) : -12) : n;
    }));
    const finite = values.flat().filter((v): v is number => v !== null && Number.isFinite(v));
    const lo = log ? Math.min(...finite) : 0;
    const hi = log ? Math.max(...finite) : 1;
    const img = ctx.createImageData(cols, layers.length);
    values.forEach((col, x) =>
      col.forEach((v, y) => {
        const o = (y * cols + x) * 4;
        if (v === null) Object.assign(img.data, { [o]: 30, [o + 1]: 33, [o + 2]: 45 });
        else if (!Number.isFinite(v)) Object.assign(img.data, { [o]: 255, [o + 1]: 60, [o + 2]: 60 });
        else {
          const t = hi > lo ? (v - lo) / (hi - lo) : 0.5;
          img.data[o] = Math.round(40 + 200 * t);
          img.data[o + 1] = Math.round(60 + 120 * t);
          img.data[o + 2] = Math.round(200 - 150 * t);
        }
        img.data[o + 3] = 255;
      }),
    );
    ctx.putImageData(img, 0, 0);
  }, [withHealth, layers.join('|'), measure]);

  if (!layers.length) return <p className="muted">No layer health yet (register the model with a probe batch, or a custom model with a probeLoss).</p>;
  return (
    <div>
      <select value={measure} onChange={(e) => setMeasure(e.target.value as Metric)} aria-label="layer metric">
        {Object.entries(METRICS).map(([k, label]) => (
          <option key={k} value={k}>
            {label}
          </option>
        ))}
      </select>
      <div className="heatmap">
        <div className="heatmap-labels">
          {layers.map((l) => (
            <div key={l}>{l}</div>
          ))}
        </div>
        <canvas ref={canvas} className="heatmap-canvas" style={{ height: `${layers.length * 18}px` }} />
      </div>
    </div>
  );
}
