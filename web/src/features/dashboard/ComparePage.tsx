import { useEffect, useState } from 'react';
import { useClient } from 'urql';
import { LineChart } from '../../components/LineChart.tsx';
import { metric } from '../../graphql/metric.ts';
import { COMPARE_LOSS } from '../../graphql/queries.ts';
import { trainingStepAxis } from './step-axis.ts';

const COLORS = ['#4f8cff', '#f5a623', '#2ecc71', '#ff4d4f', '#b06cff', '#00c2c7'];

interface CompareRun {
  id: number;
  name: string;
  /** Train loss by training step. */
  points: Map<number, number | null>;
  unit: 'training step' | 'flush';
  error: string | null;
}

/** Loss curves of several sessions on one chart, aligned by training step. */
export function ComparePage({ ids }: { ids: number[] }) {
  const client = useClient();
  const [runs, setRuns] = useState<CompareRun[]>([]);
  const key = ids.join(',');
  useEffect(() => {
    let alive = true;
    void Promise.all(
      ids.map(async (id): Promise<CompareRun> => {
        const r = await client.query(COMPARE_LOSS, { id }).toPromise();
        const s = r.data?.session;
        if (!s) return { id, name: `#${id}`, points: new Map(), unit: 'flush', error: r.error?.message ?? 'not found' };
        const axis = trainingStepAxis(s.steps);
        return { id, name: `${s.runName ?? s.runId} #${id}`, points: new Map(s.steps.map((x, i) => [axis.xs[i]!, metric(x.loss?.trainMean)])), unit: axis.unit, error: null };
      }),
    ).then((r) => alive && setRuns(r));
    return () => {
      alive = false;
    };
    // The ids' text is their identity: a new array of the same ids is the same comparison.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key, client]);
  const xs = [...new Set(runs.flatMap((r) => [...r.points.keys()]))].sort((a, b) => a - b);
  const series = runs.map((r, i) => ({ label: r.name, color: COLORS[i % COLORS.length]!, values: xs.map((x) => r.points.get(x) ?? null) }));
  const unit = runs.some((r) => r.unit === 'flush') ? 'flush' : 'training step';
  const failed = runs.filter((r) => r.error);
  return (
    <div>
      <h1>Compare</h1>
      {failed.map((r) => (
        <p key={r.id} className="error">
          Session #{r.id} could not be read: {r.error}
        </p>
      ))}
      <div className="card">{runs.length ? <LineChart title="Train loss" xs={xs} series={series} height={360} xLabel={unit} /> : <p className="muted">Loading…</p>}</div>
    </div>
  );
}
