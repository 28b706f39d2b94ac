/** GraphQL documents of the web app. */

export const PROJECTS = `query Projects { projects { id name createdAt sessions { id runName runId status startedAt stepCount } } }`;

/** What the charts need of every step (small). */
export const CHART_FIELDS = `stepIndex loss { trainMean val } throughput { samplesPerSecond } memory { numTensors }`;

/** The heavy channels (per-layer health, profiles): fetched for recent steps only. */
export const DETAIL_FIELDS = `stepIndex layerHealth profiler sustainability carbonEmissions`;

export const STEP_FIELDS = `${CHART_FIELDS} layerHealth profiler sustainability carbonEmissions`;

/** Steps fetched with their heavy channels when a session opens. */
export const DETAIL_WINDOW = 200;

export const SESSION = `query Session($id: Int!) {
  session(id: $id) {
    id runId runName status startedAt endedAt device config metadata projectId
    model { architecture hyperparameters }
    series { stepIndex trainLoss samplesPerSecond numTensors val { name values } }
    recent: steps(last: ${DETAIL_WINDOW}) { ${DETAIL_FIELDS} }
    diagnostics(first: 200, withIssuesOnly: true) { id stepIndex healthScore verdict createdAt issues { severity category code title description suggestion confidence layerId epochIndex } }
    latestDiagnostics { healthScore issueCount }
    logs(last: 300) { id ts level msg module kind }
  }
}`;

export const STEPS_AFTER = `query StepsAfter($id: Int!, $after: Int!) { session(id: $id) { steps(after: $after, first: 10000) { ${STEP_FIELDS} } } }`;

export const STEP_EVENTS = `subscription Steps($id: Int!) { sessionSteps(sessionId: $id) { missedBefore step { ${STEP_FIELDS} } } }`;

export const STATUS_EVENTS = `subscription Status($id: Int!) { sessionStatus(sessionId: $id) {
  status stepIndex reason at run { id stepIndex healthScore verdict createdAt issues { severity category code title description suggestion confidence layerId epochIndex } } } }`;

export const LOG_EVENTS = `subscription Logs($id: Int!) { sessionLogs(sessionId: $id) { log { id ts level msg module kind } } }`;

export const ACTION = `mutation Action($id: Int!, $action: SessionAction!) { sessionAction(sessionId: $id, action: $action) { id status } }`;

/** The most steps one `series` answer holds (the server's bound); a full page means more follow. */
export const SERIES_PAGE = 100_000;

export const SERIES_AFTER = `query SeriesAfter($id: Int!, $after: Int!) { session(id: $id) { series(after: $after) { stepIndex trainLoss samplesPerSecond numTensors val { name values } } } }`;

/** The session's chart columns (`series`): entry i of each belongs to stepIndex[i]. */
export interface SeriesColumns {
  stepIndex: number[];
  trainLoss: unknown[];
  samplesPerSecond: unknown[];
  numTensors: unknown[];
  val: { name: string; values: unknown[] }[];
}

/** Rows for the charts from the columns (the heavy channels empty until details arrive). */
export function rowsFromSeries(c: SeriesColumns): StepRow[] {
  return c.stepIndex.map((stepIndex, i) => {
    const val = c.val.length ? Object.fromEntries(c.val.filter((v) => v.values[i] !== null).map((v) => [v.name, v.values[i]])) : {};
    return {
      stepIndex,
      loss: { trainMean: c.trainLoss[i], val: Object.keys(val).length ? val : null },
      throughput: { samplesPerSecond: c.samplesPerSecond[i] },
      memory: { numTensors: c.numTensors[i] },
      layerHealth: null,
      profiler: null,
      sustainability: null,
      carbonEmissions: null,
    };
  });
}

export interface StepRow {
  stepIndex: number;
  loss: { trainMean: unknown; val: Record<string, unknown> | null } | null;
  throughput: { samplesPerSecond: unknown } | null;
  memory: { numTensors: unknown } | null;
  layerHealth: { layers?: Record<string, Record<string, unknown>> } | null;
  profiler: { top_operations?: { name: string; calls?: number; time_ms?: number; cpu_time_ms?: number }[]; forward_ms?: unknown; backward_ms?: unknown } | null;
  sustainability: Record<string, unknown> | null;
  carbonEmissions: { cumulative_energy_kwh?: number; cumulative_emissions_kg?: number; country_iso?: string; device_watts?: number } | null;
}

export interface Issue {
  severity: 'critical' | 'warning' | 'info';
  category: string;
  code: string;
  title: string;
  description: string;
  suggestion: string;
  /** How sure the rule is, 0.5-1; null for issues stored before rules said. */
  confidence: number | null;
  layerId: string | null;
  epochIndex: number | null;
}

export interface Run {
  id: number;
  stepIndex: number | null;
  healthScore: number;
  verdict: string;
  createdAt: string;
  issues: Issue[];
}

export interface LogRow {
  id: number;
  ts: string | null;
  level: string;
  msg: string;
  module: string | null;
  kind: string;
}
