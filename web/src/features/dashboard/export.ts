import { client, metric } from '../../graphql/client.ts';

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
        diagnostics(first: 1000) { stepIndex healthScore verdict issues { severity category code title description suggestion confidence layerId epochIndex metricValue } } } }`,
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

interface CsvStep {
  stepIndex: number;
  durationSeconds: unknown;
  loss: { trainMean: unknown; trainMin: unknown; trainMax: unknown; trainStd: unknown; numBatches: number | null; val: Record<string, unknown> | null } | null;
  throughput: { samplesPerSecond: unknown; tokensPerSecond: unknown } | null;
  memory: { numTensors: unknown; numBytes: unknown } | null;
}

/** Every step's loss, validation, throughput and memory as CSV, fetched raw (NaN written as NaN). */
export async function exportCsv(id: number, runId: string): Promise<void> {
  const r = await client
    .query(
      `query($id: Int!) { session(id: $id) { steps(first: 10000) { stepIndex durationSeconds loss { trainMean trainMin trainMax trainStd numBatches val }
        throughput { samplesPerSecond tokensPerSecond } memory { numTensors numBytes } } } }`,
      { id },
      { requestPolicy: 'network-only' },
    )
    .toPromise();
  const steps = (r.data?.session.steps ?? []) as CsvStep[];
  const valKeys = [...new Set(steps.flatMap((s) => Object.keys(s.loss?.val ?? {})))];
  const header = ['step_index', 'duration_seconds', 'train_mean', 'train_min', 'train_max', 'train_std', 'num_batches', ...valKeys, 'samples_per_second', 'tokens_per_second', 'num_tensors', 'num_bytes'];
  const rows = steps.map((s) =>
    [
      s.stepIndex,
      csvCell(s.durationSeconds),
      csvCell(s.loss?.trainMean),
      csvCell(s.loss?.trainMin),
      csvCell(s.loss?.trainMax),
      csvCell(s.loss?.trainStd),
      s.loss?.numBatches ?? '',
      ...valKeys.map((k) => csvCell(s.loss?.val?.[k])),
      csvCell(s.throughput?.samplesPerSecond),
      csvCell(s.throughput?.tokensPerSecond),
      csvCell(s.memory?.numTensors),
      csvCell(s.memory?.numBytes),
    ].join(','),
  );
  download(`${runId}.csv`, [header.join(','), ...rows].join('\n'), 'text/csv');
}
