import { useMemo } from 'react';

/** The architecture's `layer_graph` (observer: nodes with id/type/parameters; the seed's Python client sends the same keys). */
export interface LayerGraphData {
  nodes?: { id?: string; name?: string; type?: string; parameters?: number; output_shape?: unknown }[];
  edges?: { source?: string; target?: string; from?: string; to?: string }[];
  sequential_path?: string[];
}

interface Placed {
  id: string;
  type: string;
  parameters: number;
  shape: string;
  rank: number;
  column: number;
}

const BOX_W = 190;
const BOX_H = 34;
const ROW = 54;
const COL = 214;
const PAD = 16;
const SKIP_GUTTER = 70;

/** Colours by the kind of layer, so the structure reads at a glance. */
function kindColour(type: string): string {
  if (/conv/i.test(type)) return '#b06cff';
  if (/attention/i.test(type)) return '#f5a623';
  if (/norm/i.test(type)) return '#7f8ba3';
  if (/embed/i.test(type)) return '#2ecc71';
  if (/add|concat|multiply/i.test(type)) return '#4a5468';
  if (/pool|flatten|reshape|dropout|input/i.test(type)) return '#56627a';
  return '#4f8cff';
}

const shapeText = (s: unknown): string => (Array.isArray(s) ? `[${s.map((d) => (d === null ? '?' : Array.isArray(d) ? shapeText(d) : String(d))).join(', ')}]` : '');

/**
 * Longest-path layering: each layer one rank below its deepest input; layers of one rank side
 * by side. Edges between neighbouring ranks are straight; longer ones (residuals, skips) arc
 * through a gutter on the right.
 */
export function layoutGraph(g: LayerGraphData): { nodes: Placed[]; edges: { from: Placed; to: Placed }[] } {
  const order = (g.sequential_path?.length ? g.sequential_path : (g.nodes ?? []).map((n) => n.id ?? n.name ?? '')).filter(Boolean);
  const info = new Map((g.nodes ?? []).map((n) => [n.id ?? n.name ?? '', n]));
  for (const id of info.keys()) if (!order.includes(id)) order.push(id);
  const edges = (g.edges ?? []).map((e) => ({ s: e.source ?? e.from ?? '', t: e.target ?? e.to ?? '' })).filter((e) => e.s && e.t && e.s !== e.t);
  for (const e of edges) for (const id of [e.s, e.t]) if (!order.includes(id)) order.push(id);
  const index = new Map(order.map((id, i) => [id, i]));
  const preds = new Map<string, string[]>(order.map((id) => [id, []]));
  // Only edges that go forward in the order count for ranks (a malformed cycle cannot loop).
  for (const e of edges) if (index.get(e.s)! < index.get(e.t)!) preds.get(e.t)!.push(e.s);
  const rank = new Map<string, number>();
  for (const id of order) rank.set(id, Math.max(-1, ...preds.get(id)!.map((p) => rank.get(p) ?? 0)) + 1);
  const columns = new Map<number, number>();
  const placed = new Map<string, Placed>();
  for (const id of order) {
    const r = rank.get(id)!;
    const column = columns.get(r) ?? 0;
    columns.set(r, column + 1);
    const n = info.get(id);
    placed.set(id, { id, type: n?.type ?? '', parameters: Number(n?.parameters ?? 0), shape: shapeText(n?.output_shape), rank: r, column });
  }
  return {
    nodes: [...placed.values()],
    edges: edges.filter((e) => placed.has(e.s) && placed.has(e.t)).map((e) => ({ from: placed.get(e.s)!, to: placed.get(e.t)! })),
  };
}

/** A drawing of the model's layer graph (SVG), scrollable when deep. */
export function LayerGraph({ graph }: { graph: LayerGraphData }) {
  const { nodes, edges } = useMemo(() => layoutGraph(graph), [graph]);
  if (!nodes.length) return <p className="muted">The client sent no layer graph.</p>;
  const ranks = Math.max(...nodes.map((n) => n.rank)) + 1;
  const cols = Math.max(...nodes.map((n) => n.column)) + 1;
  const width = PAD * 2 + (cols - 1) * COL + BOX_W + SKIP_GUTTER;
  const height = PAD * 2 + (ranks - 1) * ROW + BOX_H;
  const x = (n: Placed) => PAD + n.column * COL;
  const y = (n: Placed) => PAD + n.rank * ROW;
  return (
    <div className="graph-scroll" data-testid="layer-graph" data-nodes={nodes.length} data-edges={edges.length}>
      <svg width={width} height={height} role="img" aria-label={`layer graph: ${nodes.length} layers, ${edges.length} connections`}>
        <defs>
          <marker id="arrow" viewBox="0 0 8 8" refX="7" refY="4" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
            <path d="M0,0 L8,4 L0,8 z" fill="#6b7890" />
          </marker>
        </defs>
        {edges.map(({ from, to }, i) => {
          const span = to.rank - from.rank;
          if (span === 1 || from.column !== to.column) {
            const x1 = x(from) + BOX_W / 2;
            const x2 = x(to) + BOX_W / 2;
            const y1 = y(from) + BOX_H;
            const y2 = y(to);
            return <path key={i} d={`M${x1},${y1} C${x1},${(y1 + y2) / 2} ${x2},${(y1 + y2) / 2} ${x2},${y2 - 1}`} className="graph-edge" markerEnd="url(#arrow)" />;
          }
          // A skip: out of the source's right side, through the gutter, into the target's.
          const bulge = Math.min(SKIP_GUTTER - 8, 16 + span * 8);
          const y1 = y(from) + BOX_H / 2;
          const y2 = y(to) + BOX_H / 2;
          const xr = Math.max(x(from), x(to)) + BOX_W;
          return <path key={i} d={`M${xr},${y1} C${xr + bulge},${y1} ${xr + bulge},${y2} ${xr + 2},${y2}`} className="graph-edge skip" markerEnd="url(#arrow)" />;
        })}
        {nodes.map((n) => (
          <g key={n.id} transform={`translate(${x(n)},${y(n)})`}>
            <title>{`${n.id} (${n.type}) · ${n.parameters.toLocaleString()} parameters${n.shape ? ` · output ${n.shape}` : ''}`}</title>
            <rect width={BOX_W} height={BOX_H} rx={6} className="graph-node" style={{ stroke: kindColour(n.type) }} />
            <rect width={4} height={BOX_H} rx={2} style={{ fill: kindColour(n.type) }} />
            <text x={12} y={14} className="graph-name">
              {n.id.length > 24 ? `${n.id.slice(0, 23)}…` : n.id}
            </text>
            <text x={12} y={27} className="graph-meta">
              {n.type}
              {n.parameters ? ` · ${compact(n.parameters)}` : ''}
              {n.shape ? ` · ${n.shape}` : ''}
            </text>
          </g>
        ))}
      </svg>
    </div>
  );
}

function compact(n: number): string {
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)}M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)}k`;
  return String(n);
}
