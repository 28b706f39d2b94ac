import { useEffect, useState } from 'react';
import { useClient } from 'urql';
import { LineChart } from '../../components/LineChart.tsx';
import { metric } from '../../graphql/client.ts';

const COLORS = ['#4f8cff', '#f5a623', '#2ecc71', '#ff4d4f', '#b06cff', '#00c2c7'];

/** Loss curves of several sessions on one chart (aligned by step index). */
export function ComparePage({ ids }: { ids: number[] }) {
  const client = useClient();
  const [runs, setRuns] = useState<{ id: number; name: string; points: Map<number, number | null> }[]>([]);
  useEffect(() => {
    Promise.all(
      ids.map(async (id) => {
        const r = await client.query('query($id: Int!) { session(id: $id) { runName runId steps(last: 10000) { stepIndex loss { trainMean } } } }', { id }).toPromise();
        const s = r.data?.session;
        return { id, name: s ? `${s.runName ?? s.runId} #${id}` : `#${id}`, points: new Map<number, number | null>((s?.steps ?? []).map((x: { stepIndex: number; loss: { trainMean: unknown } | null }) => [x.stepIndex, metric(x.loss?.trainMean)])) };
      }),
    ).then(setRuns);
  }, [ids.join(','), client]);
  const xs = [...new Set(runs.flatMap((r) => [...r.points.keys()]))].sort((a, b) => a - b);
  const series = runs.map((r, i) => ({ label: r.name, color: COLORS[i % COLORS.length]!, values: xs.map((x) => r.points.get(x) ?? null) }));
  return (
    <div>
      <h1>Compare</h1>
      <div className="card">{runs.length ? <LineChart title="Train loss" xs={xs} series={series} height={360} /> : <p className="muted">Loading…</p>}</div>
    </div>
  );
}
