import { nodeProcess } from './collectors/environment.ts';
import type { JsonObject, StepRecord } from './record.ts';
import type { DeliveryCounts } from './flush-record.ts';
import { encodeNonFinite } from './transport/encode.ts';

/** Everything a run recorded, for {@link buildReport}. */
export interface ReportInput extends DeliveryCounts {
  runId: string;
  runName: string;
  sessionId: number | null;
  /** The config as the seed sends it (snake_case). */
  config: Record<string, unknown>;
  hyperparameters: JsonObject;
  architecture: JsonObject | null;
  steps: StepRecord[];
  /** Records still waiting for the server. */
  unsent: number;
}

/** The report: session, hyperparameters, model, step records, what never reached the server (NaN and Infinity encoded). */
export function buildReport(r: ReportInput): JsonObject {
  return encodeNonFinite({
    run_id: r.runId,
    run_name: r.runName,
    session_id: r.sessionId,
    config: r.config,
    hyperparameters: r.hyperparameters,
    architecture: r.architecture,
    steps: r.steps,
    unsent: r.unsent,
    dropped: { ...r.dropped },
    rejected: { ...r.rejected },
    trimmed: { ...r.trimmed },
  }) as JsonObject;
}

/**
 * Writes a report as JSON: to `path` in Node (its folder created), as a download of the file
 * name of `path` in a browser.
 * @returns the path or file name
 */
export async function writeReport(report: JsonObject, path: string): Promise<string> {
  const text = JSON.stringify(report, null, 2);
  if (nodeProcess) {
    // Node modules are loaded only in Node, so a browser bundle never sees them.
    const fs = (await import(/* @vite-ignore */ 'node:' + 'fs/promises')) as typeof import('node:fs/promises');
    const p = (await import(/* @vite-ignore */ 'node:' + 'path')) as typeof import('node:path');
    await fs.mkdir(p.dirname(p.resolve(path)), { recursive: true });
    await fs.writeFile(path, text);
    return path;
  }
  const doc = (globalThis as { document?: Document }).document!;
  const a = doc.createElement('a');
  a.href = URL.createObjectURL(new Blob([text], { type: 'application/json' }));
  a.download = path.split('/').pop()!;
  a.click();
  URL.revokeObjectURL(a.href);
  return a.download;
}
