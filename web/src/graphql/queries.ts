/**
 * The GraphQL documents of the dashboard, typed from `schema.graphql` (see `graphql.ts`), and
 * the row types the pages read, derived from them rather than written by hand.
 */
import { graphql, type ResultOf } from './graphql.ts';

/** A machine-actionable fix, as an issue proposes it and a resume carries it. */
export const RemedyFields = graphql(`
  fragment RemedyFields on Remedy { kind factor maxNorm toStep atStep trainingStep summary reason confidence }
`);

/** An issue as the timeline and the pending prompt show it, with the fix it proposes (one, applied in this order). */
export const IssueFields = graphql(
  `
  fragment IssueFields on DiagnosticIssue {
    severity category code title description suggestion confidence layerId epochIndex remedies { ...RemedyFields }
  }
`,
  [RemedyFields],
);

/** Remedies chosen with a resume: the charts' markers and the timeline's entries. */
export const ApplicationFields = graphql(
  `
  fragment ApplicationFields on RemedyApplication {
    id stepIndex createdAt source chosenBy remedies { ...RemedyFields } report { kind applied detail }
  }
`,
  [RemedyFields],
);

/** A diagnostic run with its issues. */
export const RunFields = graphql(
  `
  fragment RunFields on DiagnosticRun {
    id stepIndex healthScore verdict createdAt issues { ...IssueFields }
  }
`,
  [IssueFields],
);

/** What the charts need of every step (small). */
export const ChartFields = graphql(`
  fragment ChartFields on TrainStep {
    stepIndex loss { trainMean numBatches val } throughput { samplesPerSecond } memory { numTensors }
  }
`);

/** The heavy channels (per-layer health, profiles): fetched for recent steps only. */
export const DetailFields = graphql(`
  fragment DetailFields on TrainStep {
    stepIndex layerHealth profiler sustainability carbonEmissions
  }
`);

/** A whole step as the charts and panels read it (what live events carry). */
export const StepFields = graphql(
  `
  fragment StepFields on TrainStep { ...ChartFields ...DetailFields }
`,
  [ChartFields, DetailFields],
);

/** A log line. */
export const LogFields = graphql(`
  fragment LogFields on SessionLog { id ts level msg module kind }
`);

/** The chart columns of a session (cheap for long sessions). */
export const SeriesFields = graphql(`
  fragment SeriesFields on StepSeries { stepIndex trainLoss samplesPerSecond numTensors numBatches val { name values } }
`);

/** The home page: projects and their sessions. */
export const PROJECTS = graphql(`
  query Projects { projects { id name createdAt sessions { id runName runId status startedAt stepCount } } }
`);

/** Steps fetched with their heavy channels when a session opens. */
export const DETAIL_WINDOW = 200;

/** A session when its page opens: the session, every step's chart columns, the recent steps' heavy channels, runs with issues and the last log lines. */
export const SESSION = graphql(
  `
  query Session($id: Int!, $detail: Int!) {
    session(id: $id) {
      id runId runName status statusVersion startedAt endedAt device config metadata projectId
      model { architecture hyperparameters }
      series { ...SeriesFields }
      recent: steps(last: $detail) { ...DetailFields loss { numBatches } }
      diagnostics(first: 200, withIssuesOnly: true) { ...RunFields }
      latestDiagnostics { healthScore issueCount }
      logs(last: 300) { ...LogFields }
      remedies(first: 1000) { ...ApplicationFields }
    }
  }
`,
  [SeriesFields, DetailFields, RunFields, LogFields, ApplicationFields],
);

/** The remedies chosen with resumes, read again until the observer has reported on them (a report is not an event). */
export const REMEDIES = graphql(
  `
  query Remedies($id: Int!) { session(id: $id) { remedies(first: 1000) { ...ApplicationFields } } }
`,
  [ApplicationFields],
);

/** Steps after a step index: what a lagging subscription missed. */
export const STEPS_AFTER = graphql(
  `
  query StepsAfter($id: Int!, $after: Int!) { session(id: $id) { steps(after: $after, first: 10000) { ...StepFields } } }
`,
  [StepFields],
);

/** The most steps one `series` answer holds (the server's bound); a full page means more follow. */
export const SERIES_PAGE = 100_000;

/** The next page of chart columns, for sessions longer than {@link SERIES_PAGE}. */
export const SERIES_AFTER = graphql(
  `
  query SeriesAfter($id: Int!, $after: Int!) { session(id: $id) { series(after: $after) { ...SeriesFields } } }
`,
  [SeriesFields],
);

/** New steps as they are stored, with how many this subscriber missed. */
export const STEP_EVENTS = graphql(
  `
  subscription Steps($id: Int!) { sessionSteps(sessionId: $id) { missedBefore step { ...StepFields } } }
`,
  [StepFields],
);

/** Status changes with the diagnostic run that caused them, starting with the current status. */
export const STATUS_EVENTS = graphql(
  `
  subscription Status($id: Int!) {
    sessionStatus(sessionId: $id) { status version stepIndex reason at run { ...RunFields } remedies { ...ApplicationFields } }
  }
`,
  [RunFields, ApplicationFields],
);

/** New log lines. */
export const LOG_EVENTS = graphql(
  `
  subscription Logs($id: Int!) { sessionLogs(sessionId: $id) { missedBefore log { ...LogFields } } }
`,
  [LogFields],
);

/** The badge of one session in a list. */
export const STATUS_BADGE_EVENTS = graphql(`
  subscription StatusBadge($id: Int!) { sessionStatus(sessionId: $id) { status version } }
`);

/** New sessions of any project: the home page reads its list again. */
export const SESSION_CREATED = graphql(`
  subscription SessionCreated { sessionCreated { id } }
`);

/** Pause, resume, stop (or complete, fail) a session. */
export const ACTION = graphql(`
  mutation Action($id: Int!, $action: SessionAction!, $remedies: [RemedyInput!], $source: String) {
    sessionAction(sessionId: $id, action: $action, remedies: $remedies, source: $source) { id status }
  }
`);

/** A session's train loss and flush sizes, for the comparison chart. */
export const COMPARE_LOSS = graphql(`
  query CompareLoss($id: Int!) { session(id: $id) { runName runId steps(last: 10000) { stepIndex loss { trainMean numBatches } } } }
`);

/** The projects the trainer may train in. */
export const TRAINER_PROJECTS = graphql(`
  query TrainerProjects { projects { id name } }
`);

/** Creates the trainer's project (admins and keys without a project may). */
export const CREATE_PROJECT = graphql(`
  mutation CreateProject($name: String!) { createProject(name: $name) { id } }
`);

/** The export's header: the session itself. */
export const EXPORT_SESSION = graphql(`
  query ExportSession($id: Int!) {
    session(id: $id) { id runId runName status startedAt endedAt config metadata model { architecture hyperparameters } }
  }
`);

/** A page of raw step records (the JSON export). */
export const EXPORT_RECORDS = graphql(`
  query ExportRecords($id: Int!, $first: Int!, $after: Int) { session(id: $id) { steps(first: $first, after: $after) { stepIndex record } } }
`);

/** A page of steps as the CSV export reads them. */
export const EXPORT_CSV_STEPS = graphql(`
  query ExportCsvSteps($id: Int!, $first: Int!, $after: Int) {
    session(id: $id) {
      steps(first: $first, after: $after) {
        stepIndex durationSeconds
        loss { trainMean trainMin trainMax trainStd numBatches val }
        throughput { samplesPerSecond tokensPerSecond }
        memory { numTensors numBytes }
      }
    }
  }
`);

/** A page of log lines (the JSON export). */
export const EXPORT_LOGS = graphql(
  `
  query ExportLogs($id: Int!, $first: Int!, $after: Int) { session(id: $id) { logs(first: $first, after: $after) { ...LogFields } } }
`,
  [LogFields],
);

/** A page of diagnostic runs (the JSON export). */
export const EXPORT_DIAGNOSTICS = graphql(
  `
  query ExportDiagnostics($id: Int!, $first: Int!, $after: Int) {
    session(id: $id) { diagnostics(first: $first, after: $after) { id stepIndex healthScore verdict issues { ...IssueFields metricValue } } }
  }
`,
  [IssueFields],
);

/** One session as the Session query returns it. */
export type SessionResult = ResultOf<typeof SESSION>['session'];
/** The session's own fields, without its lists. */
export type SessionData = Omit<SessionResult, 'series' | 'recent' | 'diagnostics' | 'logs' | 'remedies'>;
/** The chart columns: entry i of each list belongs to `stepIndex[i]`. */
export type SeriesColumns = ResultOf<typeof SeriesFields>;
/** One step as the charts and panels read it. */
export type StepRow = ResultOf<typeof StepFields>;
/** One issue of a diagnostic run. */
export type Issue = ResultOf<typeof IssueFields>;
/** A diagnostic run with its issues. */
export type Run = ResultOf<typeof RunFields>;
/** A log line. */
export type LogRow = ResultOf<typeof LogFields>;
/** A proposed or chosen remedy. */
export type RemedyRow = ResultOf<typeof RemedyFields>;
/** Remedies chosen with one resume. */
export type Application = ResultOf<typeof ApplicationFields>;

/** What a resume sends of a proposed remedy: its kind, parameters and the words the rules gave it. */
export function remedyInput(r: RemedyRow) {
  return { kind: r.kind, factor: r.factor, maxNorm: r.maxNorm, toStep: r.toStep, atStep: r.atStep, trainingStep: r.trainingStep, reason: r.reason, confidence: r.confidence };
}
/** A session's status, as the schema's enum. */
export type Status = SessionData['status'];

/** Rows for the charts from the columns (the heavy channels empty until details arrive). */
export function rowsFromSeries(c: SeriesColumns): StepRow[] {
  return c.stepIndex.map((stepIndex, i) => {
    const entries = c.val.flatMap((v) => (v.values[i] != null ? [[v.name, v.values[i]] as const] : []));
    return {
      stepIndex,
      loss: { trainMean: c.trainLoss[i] ?? null, numBatches: c.numBatches[i] ?? null, val: entries.length ? Object.fromEntries(entries) : null },
      throughput: { samplesPerSecond: c.samplesPerSecond[i] ?? null },
      memory: { numTensors: c.numTensors[i] ?? null },
      layerHealth: null,
      profiler: null,
      sustainability: null,
      carbonEmissions: null,
    };
  });
}
