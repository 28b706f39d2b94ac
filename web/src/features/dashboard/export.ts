import { client, metric } from '../../graphql/client.ts';
import type { StepRow } from '../../graphql/queries.ts';

function download(name: string, text: string, type: string) {
  const a = document.createElement('a');
  a.href = URL.createObjectURL(new Blob([text], { type }));
  a.download = name;
  a.click();
  URL.revokeObjectURL(a.href);
}

/** The whole session as JSON: every raw step record (not the downsampled charts), logs, diagnostics. */
export async function exportJson(id: number): Promise<void> {
  const r = await client
    .query(
      `query($id: Int!) { session(id: $id) { id runId runName status startedAt endedAt config metadata model { architecture hyperparameters }
        steps(first: 10000) { record } logs(first: 10000) { ts level msg module kind }
        diagnostics(first: 1000) { stepIndex healthScore verdict issues { severity category code title description suggestion layerId epochIndex metricValue } } } }`,
      { id },
      { requestPolicy: 'network-only' },
    )
    .toPromise();
  if (r.data) download(`${r.data.session.runId}.json`, JSON.stringify(r.data.session, null, 2), 'application/json');
}

const csvCell = (v: unknown) => {
  const n = metric(v);
  return n === null ? '' : String(n);
};

/** Loss, validation, throughput and memory per step as CSV (NaN written as NaN). */
export function exportCsv(runId: string, steps: StepRow[]): void {
  const valKeys = [...new Set(steps.flatMap((s) => Object.keys(s.loss?.val ?? {})))];
  const header = ['step_index', 'train_mean', 'train_min', 'train_max', 'train_std', ...valKeys, 'samples_per_second', 'num_tensors'];
  const rows = steps.map((s) =>
    [s.stepIndex, csvCell(s.loss?.trainMean), csvCell(s.loss?.trainMin), csvCell(s.loss?.trainMax), csvCell(s.loss?.trainStd), ...valKeys.map((k) => csvCell(s.loss?.val?.[k])), csvCell(s.throughput?.samplesPerSecond), csvCell(s.memory?.numTensors)].join(','),
  );
  download(`${runId}.csv`, [header.join(','), ...rows].join('\n'), 'text/csv');
}
