import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { downsample } from './downsample.ts';

export interface Series {
  label: string;
  color: string;
  values: (number | null)[];
}

const STEP_INCREMENTS = [1, 2, 5].flatMap((m) => [1, 10, 100, 1000, 10000, 100000].map((p) => m * p)).sort((a, b) => a - b);

/** A vertical line at `x` (a resume with remedies), labelled. */
export interface Marker {
  x: number;
  label: string;
}

/**
 * A live line chart (uPlot). NaN and ±Infinity are drawn as red markers at the top, not
 * dropped; `markers` as dashed vertical lines. `xLabel` names the x-axis (training steps, normally).
 */
export function LineChart({
  title,
  xs,
  series,
  height = 220,
  logScale = false,
  xLabel = 'training step',
  markers = [],
}: {
  title: string;
  xs: number[];
  series: Series[];
  height?: number;
  logScale?: boolean;
  xLabel?: string;
  markers?: readonly Marker[];
}) {
  const el = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const nonFinite = useRef<{ x: number; label: string }[]>([]);
  const lines = useRef<readonly Marker[]>(markers);

  useEffect(() => {
    if (!el.current) return;
    const width = el.current.clientWidth || 600;
    const opts: uPlot.Options = {
      width,
      height,
      title,
      scales: { x: { time: false }, y: logScale ? { distr: 3 } : {} },
      // Steps are whole numbers: no 0.2-step ticks on a short run.
      axes: [{ stroke: '#8b93a7', grid: { stroke: '#232838' }, incrs: STEP_INCREMENTS, label: xLabel, labelSize: 18 }, { stroke: '#8b93a7', grid: { stroke: '#232838' } }],
      series: [{ label: xLabel }, ...series.map((s) => ({ label: s.label, stroke: s.color, width: 1.5, spanGaps: true, points: { show: false } }))],
      legend: { live: true },
      hooks: {
        draw: [
          (u) => {
            const ctx = u.ctx;
            ctx.save();
            ctx.fillStyle = '#ff4d4f';
            for (const m of nonFinite.current) {
              const x = u.valToPos(m.x, 'x', true);
              if (x < u.bbox.left || x > u.bbox.left + u.bbox.width) continue;
              ctx.beginPath();
              ctx.moveTo(x, u.bbox.top);
              ctx.lineTo(x - 5 * devicePixelRatio, u.bbox.top - 8 * devicePixelRatio);
              ctx.lineTo(x + 5 * devicePixelRatio, u.bbox.top - 8 * devicePixelRatio);
              ctx.fill();
            }
            ctx.strokeStyle = '#4da3ff';
            ctx.fillStyle = '#4da3ff';
            ctx.lineWidth = devicePixelRatio;
            ctx.setLineDash([4 * devicePixelRatio, 3 * devicePixelRatio]);
            ctx.font = `${10 * devicePixelRatio}px sans-serif`;
            for (const m of lines.current) {
              const x = u.valToPos(m.x, 'x', true);
              if (x < u.bbox.left || x > u.bbox.left + u.bbox.width) continue;
              ctx.beginPath();
              ctx.moveTo(x, u.bbox.top);
              ctx.lineTo(x, u.bbox.top + u.bbox.height);
              ctx.stroke();
              ctx.fillText(m.label, x + 3 * devicePixelRatio, u.bbox.top + 12 * devicePixelRatio);
            }
            ctx.restore();
          },
        ],
      },
    };
    plot.current = new uPlot(opts, [[], ...series.map(() => [])], el.current);
    // The node itself, not the ref: React clears the ref on unmount before this effect's cleanup disconnects.
    const node = el.current;
    const resize = new ResizeObserver(() => plot.current?.setSize({ width: node.clientWidth, height }));
    resize.observe(node);
    return () => {
      resize.disconnect();
      plot.current?.destroy();
      plot.current = null;
    };
    // The series' identity (count and labels) defines the chart; values flow through setData.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [title, height, logScale, xLabel, series.map((s) => s.label).join('|')]);

  // Redrawn when the markers change, not when only their array does (a new step makes a new one).
  const markerKey = markers.map((m) => `${m.x}:${m.label}`).join('|');
  useEffect(() => {
    lines.current = markers;
    // Before its first data uPlot has no axes to draw; the first setData draws the markers then.
    if (plot.current && plot.current.data[0].length) plot.current.redraw(false);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [markerKey]);

  useEffect(() => {
    if (!plot.current) return;
    nonFinite.current = [];
    series.forEach((s) => s.values.forEach((v, i) => v !== null && !Number.isFinite(v) && nonFinite.current.push({ x: xs[i]!, label: s.label })));
    const clean = series.map((s) => s.values.map((v) => (v !== null && Number.isFinite(v) && (!logScale || v > 0) ? v : null)));
    const d = downsample(xs, clean, plot.current.width);
    plot.current.setData([d.xs, ...d.series] as uPlot.AlignedData);
  }, [xs, series, logScale]);

  return <div className="chart" ref={el} data-testid={`chart-${title}`} data-points={xs.length} data-nonfinite={series.reduce((n, s) => n + s.values.filter((v) => v !== null && !Number.isFinite(v)).length, 0)} data-markers={markers.length} />;
}
