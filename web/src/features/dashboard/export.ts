/**
 * The session exports: every step, log line and diagnostic run, fetched page by page (the API
 * serves at most 10,000 steps or log lines and 1,000 runs at once), written as JSON or CSV.
 * The paging loop and the CSV writer are pure; the two `export…` functions wire them to a
 * client and a download.
 */
import Papa from 'papaparse';
import type { Client } from 'urql';
import { metric } from '../../graphql/metric.ts';

/** The most the API returns per page: `steps` and `logs` take `first` up to 10,000, `diagnostics` up to 1,000. */
export const PAGE_SIZE = { steps: 10_000, logs: 10_000, diagnostics: 1_000 } as const;

/**
 * Every item of a cursor-paged list: asks for `pageSize` items after the cursor of the last
 * one received until a page comes back short (the API's end of the list).
 * @throws Error when a full page does not move the cursor (a server ignoring `after` would loop forever)
 */
export async function fetchAll<T>(fetchPage: (after: number | null, first: number) => Promise<T[]>, cursorOf: (item: T) => number, pageSize: number): Promise<T[]> {
  const all: T[] = [];
  let after: number | null = null;
  for (;;) {
    const page = await fetchPage(after, pageSize);
    for (const item of page) all.push(item);
    if (page.length < pageSize) return all;
    const next = cursorOf(page[page.length - 1]!);
    if (next === after) throw new Error(`the list did not advance past ${after}`);
    after = next;
  }
}

/** One step as the CSV export reads it. */
export interface CsvStep {
  stepIndex: number;
  durationSeconds: unknown;
  loss: { trainMean: unknown; trainMin: unknown; trainMax: unknown; trainStd: unknown; numBatches: number | null; val: Record<string, unknown> | null } | null;
  throughput: { samplesPerSecond: unknown; tokensPerSecond: unknown } | null;
  memory: { numTensors: unknown; numBytes: unknown } | null;
}

/**
 * A cell: metrics as numbers (NaN and ±Infinity included, which papaparse writes as `NaN`,
 * `Infinity`, `-Infinity`, and never formula-escapes because they are not strings); anything
 * else as text, which papaparse quotes and formula-escapes.
 */
function cell(v: unknown): number | string | null {
  const n = metric(v);
  if (n !== null) return n;
  if (v === null || v === undefined) return null;
  return typeof v === 'string' ? v : JSON.stringify(v);
}

/**
 * Steps as CSV (RFC 4180): one row a step, a column per validation metric. Names and text
 * with commas, quotes or line breaks are quoted; text starting with `=`, `+`, `-`, `@`, tab
 * or CR gets a leading `'` so a spreadsheet does not run it as a formula.
 */
export function stepsCsv(steps: CsvStep[]): string {
  const valKeys = [...new Set(steps.flatMap((s) => Object.keys(s.loss?.val ?? {})))];
  const fields = ['step_index', 'duration_seconds', 'train_mean', 'train_min', 'train_max', 'train_std', 'num_batches', ...valKeys, 'samples_per_second', 'tokens_per_second', 'num_tensors', 'num_bytes'];
  const data = steps.map((s) => [
    s.stepIndex,
    cell(s.durationSeconds),
    cell(s.loss?.trainMean),
    cell(s.loss?.trainMin),
    cell(s.loss?.trainMax),
    cell(s.loss?.trainStd),
    s.loss?.numBatches ?? null,
    ...valKeys.map((k) => cell(s.loss?.val?.[k])),
    cell(s.throughput?.samplesPerSecond),
    cell(s.throughput?.tokensPerSecond),
    cell(s.memory?.numTensors),
    cell(s.memory?.numBytes),
  ]);
  return Papa.unparse({ fields, data }, { escapeFormulae: true });
}

/** A session query through the client; GraphQL and network errors are thrown, not swallowed. */
async function sessionQuery(client: Client, query: string, variables: Record<string, unknown>): Promise<Record<string, unknown>> {
  const r = await client.query(query, variables, { requestPolicy: 'network-only' }).toPromise();
  if (r.error) throw r.error;
  if (!r.data?.session) throw new Error('the session was not found');
  return r.data.session as Record<string, unknown>;
}

/** Fetches pages of one of a session's lists (`steps`, `logs`, `diagnostics`) for {@link fetchAll}. */
function pager<T>(client: Client, id: number, list: keyof typeof PAGE_SIZE, selection: string): (after: number | null, first: number) => Promise<T[]> {
  const query = `query($id: Int!, $first: Int!, $after: Int) { session(id: $id) { ${list}(first: $first, after: $after) { ${selection} } } }`;
  return async (after, first) => (await sessionQuery(client, query, { id, first, after }))[list] as T[];
}

function download(name: string, text: string, type: string) {
  const a = document.createElement('a');
  a.href = URL.createObjectURL(new Blob([text], { type }));
  a.download = name;
  a.click();
  URL.revokeObjectURL(a.href);
}

const ISSUE = 'issues { severity category code title description suggestion confidence layerId epochIndex metricValue }';

/** The whole session as JSON: every raw step record (not the downsampled charts), log line and diagnostic run. */
export async function exportJson(client: Client, id: number): Promise<void> {
  const session = await sessionQuery(client, 'query($id: Int!) { session(id: $id) { id runId runName status startedAt endedAt config metadata model { architecture hyperparameters } } }', { id });
  const [steps, logs, diagnostics] = await Promise.all([
    fetchAll(pager<{ stepIndex: number }>(client, id, 'steps', 'stepIndex record'), (s) => s.stepIndex, PAGE_SIZE.steps),
    fetchAll(pager<{ id: number }>(client, id, 'logs', 'id ts level msg module kind'), (l) => l.id, PAGE_SIZE.logs),
    fetchAll(pager<{ id: number }>(client, id, 'diagnostics', `id stepIndex healthScore verdict ${ISSUE}`), (d) => d.id, PAGE_SIZE.diagnostics),
  ]);
  download(`${String(session.runId)}.json`, JSON.stringify({ ...session, steps, logs, diagnostics }, null, 2), 'application/json');
}

/** Every step's loss, validation, throughput and memory as CSV (see {@link stepsCsv}). */
export async function exportCsv(client: Client, id: number, runId: string): Promise<void> {
  const selection = 'stepIndex durationSeconds loss { trainMean trainMin trainMax trainStd numBatches val } throughput { samplesPerSecond tokensPerSecond } memory { numTensors numBytes }';
  const steps = await fetchAll(pager<CsvStep>(client, id, 'steps', selection), (s) => s.stepIndex, PAGE_SIZE.steps);
  download(`${runId}.csv`, stepsCsv(steps), 'text/csv');
}
