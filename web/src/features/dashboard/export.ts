/**
 * The session exports: every step, log line and diagnostic run, fetched page by page (the API
 * serves at most 10,000 steps or log lines and 1,000 runs at once), written as JSON or CSV.
 * The paging loop and the CSV writer are pure; the two `export…` functions wire them to a
 * client and a download.
 */
import Papa from 'papaparse';
import type { Client, OperationResult, TypedDocumentNode } from 'urql';
import { asObject, type ResultOf } from '../../graphql/graphql.ts';
import { metric } from '../../graphql/metric.ts';
import { EXPORT_CSV_STEPS, EXPORT_DIAGNOSTICS, EXPORT_LOGS, EXPORT_RECORDS, EXPORT_SESSION } from '../../graphql/queries.ts';

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
export type CsvStep = ResultOf<typeof EXPORT_CSV_STEPS>['session']['steps'][number];

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
  const valKeys = [...new Set(steps.flatMap((s) => Object.keys(asObject(s.loss?.val) ?? {})))];
  const fields = ['step_index', 'duration_seconds', 'train_mean', 'train_min', 'train_max', 'train_std', 'num_batches', ...valKeys, 'samples_per_second', 'tokens_per_second', 'num_tensors', 'num_bytes'];
  const data = steps.map((s) => [
    s.stepIndex,
    cell(s.durationSeconds),
    cell(s.loss?.trainMean),
    cell(s.loss?.trainMin),
    cell(s.loss?.trainMax),
    cell(s.loss?.trainStd),
    s.loss?.numBatches ?? null,
    ...valKeys.map((k) => cell(asObject(s.loss?.val)?.[k])),
    cell(s.throughput?.samplesPerSecond),
    cell(s.throughput?.tokensPerSecond),
    cell(s.memory?.numTensors),
    cell(s.memory?.numBytes),
  ]);
  return Papa.unparse({ fields, data }, { escapeFormulae: true });
}

/** A query's answer, or its error thrown (GraphQL and network errors are not swallowed). */
async function answer<T>(pending: Promise<OperationResult<T>>): Promise<T> {
  const r = await pending;
  if (r.error) throw r.error;
  if (!r.data) throw new Error('the server gave no answer');
  return r.data;
}

/** Variables of a page of one of a session's lists. */
interface PageVariables {
  id: number;
  first: number;
  after: number | null;
}

/** A pager for {@link fetchAll} from a typed page query of a session's list. */
function pager<D extends { session: Record<string, unknown> }, T>(client: Client, id: number, query: TypedDocumentNode<D, PageVariables>, items: (session: D['session']) => T[]) {
  return async (after: number | null, first: number): Promise<T[]> =>
    items((await answer(client.query(query, { id, first, after }, { requestPolicy: 'network-only' }).toPromise())).session);
}

function download(name: string, text: string, type: string) {
  const a = document.createElement('a');
  a.href = URL.createObjectURL(new Blob([text], { type }));
  a.download = name;
  a.click();
  URL.revokeObjectURL(a.href);
}

/** The whole session as JSON: every raw step record (not the downsampled charts), log line and diagnostic run. */
export async function exportJson(client: Client, id: number): Promise<void> {
  const { session } = await answer(client.query(EXPORT_SESSION, { id }, { requestPolicy: 'network-only' }).toPromise());
  const [steps, logs, diagnostics] = await Promise.all([
    fetchAll(pager(client, id, EXPORT_RECORDS, (s) => s.steps), (s) => s.stepIndex, PAGE_SIZE.steps),
    fetchAll(pager(client, id, EXPORT_LOGS, (s) => s.logs), (l) => l.id, PAGE_SIZE.logs),
    fetchAll(pager(client, id, EXPORT_DIAGNOSTICS, (s) => s.diagnostics), (d) => d.id, PAGE_SIZE.diagnostics),
  ]);
  download(`${session.runId}.json`, JSON.stringify({ ...session, steps, logs, diagnostics }, null, 2), 'application/json');
}

/** Every step's loss, validation, throughput and memory as CSV (see {@link stepsCsv}). */
export async function exportCsv(client: Client, id: number, runId: string): Promise<void> {
  const steps = await fetchAll(pager(client, id, EXPORT_CSV_STEPS, (s) => s.steps), (s) => s.stepIndex, PAGE_SIZE.steps);
  download(`${runId}.csv`, stepsCsv(steps), 'text/csv');
}
