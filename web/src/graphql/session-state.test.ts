import { describe, expect, it } from 'vitest';
import type { MetricValue } from './graphql.ts';
import type { Application, LogRow, Run, SessionData, StepRow } from './queries.ts';
import { collectLogs, collectStatus, collectSteps, combineSession, EMPTY_HISTORY, LOG_LIMIT, mergeSteps, reduceHistory, type History } from './session-state.ts';

const step = (stepIndex: number, trainMean: MetricValue | null = 1): StepRow => ({
  stepIndex,
  loss: { trainMean, numBatches: 10, val: null },
  throughput: { samplesPerSecond: 100 },
  memory: { numTensors: 5 },
  layerHealth: null,
  profiler: null,
  sustainability: null,
  carbonEmissions: null,
});

const run = (id: number, stepIndex: number, issues = 1): Run => ({
  id,
  stepIndex,
  healthScore: 100 - 25 * issues,
  verdict: issues ? 'pending' : 'running',
  createdAt: '2026-12-02T10:00:00.000Z',
  issues: Array.from({ length: issues }, () => ({
    severity: 'critical' as const,
    category: 'loss',
    code: 'loss.non_finite',
    title: 'Loss is NaN',
    description: 'd',
    suggestion: 's',
    confidence: 1,
    remedies: [],
    layerId: null,
    epochIndex: null,
  })),
});
const application = (id: number, stepIndex: number): Application => ({
  id,
  stepIndex,
  createdAt: '2026-12-02T10:05:00.000Z',
  source: 'dashboard',
  chosenBy: 'open',
  remedies: [{ kind: 'scale_learning_rate', factor: 0.1, maxNorm: null, toStep: null, atStep: null, trainingStep: null, summary: 'lower the learning rate 10x', reason: null, confidence: null }],
  report: null,
});


const log = (id: number): LogRow => ({ id, ts: null, level: 'INFO', msg: `line ${id}`, module: null, kind: 'console' });

const session = (status: SessionData['status'], statusVersion: number): SessionData => ({
  id: 1,
  runId: '1_run',
  runName: 'run',
  status,
  statusVersion,
  startedAt: '2026-12-02T10:00:00.000Z',
  endedAt: null,
  device: 'cpu',
  config: { pending_timeout: 39 },
  metadata: null,
  projectId: 1,
  model: null,
  latestDiagnostics: { healthScore: 100, issueCount: 0 },
});

const indexes = (steps: StepRow[]) => steps.map((s) => s.stepIndex);

describe('mergeSteps', () => {
  it('appends newer steps and keeps order and one row per index when a re-fetch overlaps', () => {
    expect(indexes(mergeSteps([step(0), step(1)], [step(2), step(3)]))).toEqual([0, 1, 2, 3]);
    const merged = mergeSteps([step(0), step(1), step(3)], [step(2, 7), step(3, 9)]);
    expect(indexes(merged)).toEqual([0, 1, 2, 3]);
    expect(merged[3]!.loss?.trainMean).toBe(9);
  });
});

describe('reduceHistory', () => {
  it('keeps the steps a page or gap fetch brought before the session query answered', () => {
    const early = reduceHistory(EMPTY_HISTORY, { type: 'steps', steps: [step(5)] });
    const loaded = reduceHistory(early, { type: 'loaded', session: session('running', 1), steps: [step(0), step(1)], runs: [], logs: [], applications: [] });
    expect(indexes(loaded.steps)).toEqual([0, 1, 5]);
    expect(loaded.error).toBeNull();
  });

  it('records an error', () => {
    expect(reduceHistory(EMPTY_HISTORY, { type: 'error', error: 'Session 9 not found' }).error).toBe('Session 9 not found');
  });
});

describe('subscription handlers', () => {
  it('collects every step event in order, and notes where a lagging subscriber lost steps', () => {
    let live = collectSteps(undefined, { sessionSteps: { missedBefore: 0, step: step(3) } });
    live = collectSteps(live, { sessionSteps: { missedBefore: 0, step: step(4) } });
    expect(live.gaps).toBe(0);
    live = collectSteps(live, { sessionSteps: { missedBefore: 3, step: step(8) } });
    expect(indexes(live.steps)).toEqual([3, 4, 8]);
    expect(live).toMatchObject({ gaps: 1, gapAfter: 4 });
  });

  it('ignores a status event older than the one applied, and collects the runs with issues', () => {
    let live = collectStatus(undefined, { sessionStatus: { status: 'running', version: 2, run: run(1, 0, 0) } });
    live = collectStatus(live, { sessionStatus: { status: 'pending', version: 4, run: run(2, 5) } });
    expect(collectStatus(live, { sessionStatus: { status: 'running', version: 3, run: null } })).toBe(live);
    expect(live.status).toBe('pending');
    expect(live.runs.map((r) => r.id)).toEqual([2]);
  });

  it(`keeps the newest ${LOG_LIMIT} log lines`, () => {
    let logs: LogRow[] | undefined;
    for (let i = 0; i < LOG_LIMIT + 5; i++) logs = collectLogs(logs, { sessionLogs: { log: log(i) } });
    expect(logs).toHaveLength(LOG_LIMIT);
    expect(logs![0]!.id).toBe(5);
    expect(logs!.at(-1)!.id).toBe(LOG_LIMIT + 4);
  });
});

describe('combineSession', () => {
  const history: History = { session: session('running', 3), steps: [step(0), step(1), step(2)], runs: [run(1, 1)], logs: [log(1), log(2)], applications: [application(1, 1)], error: null };

  it('adds only what arrived live after the history, so an overlap is not counted twice', () => {
    const live = [step(1), step(2), step(3), step(4)].reduce((l, s) => collectSteps(l, { sessionSteps: { missedBefore: 0, step: s } }), collectSteps(undefined, { sessionSteps: { missedBefore: 0, step: step(0) } }));
    const view = combineSession(history, { steps: live, logs: [log(2), log(3)] });
    expect(indexes(view.steps)).toEqual([0, 1, 2, 3, 4]);
    expect(view.logs.map((l) => l.id)).toEqual([1, 2, 3]);
    expect(view.session?.status).toBe('running');
    expect(view.pending).toBeNull();
  });

  it('shows a newer live status with its run and health, and the run that holds it pending', () => {
    const status = collectStatus(undefined, { sessionStatus: { status: 'pending', version: 4, run: run(7, 2, 2) } });
    const view = combineSession(history, { status });
    expect(view.session).toMatchObject({ status: 'pending', statusVersion: 4, latestDiagnostics: { healthScore: 50, issueCount: 2 } });
    expect(view.runs.map((r) => r.id)).toEqual([7, 1]);
    expect(view.pending?.id).toBe(7);
  });

  it('adds the remedies a live resume announced after the loaded ones, once', () => {
    const first = collectStatus(undefined, { sessionStatus: { status: 'running', version: 4, run: null, remedies: application(1, 1) } });
    const second = collectStatus(first, { sessionStatus: { status: 'running', version: 6, run: null, remedies: application(2, 5) } });
    const view = combineSession(history, { status: collectStatus(second, { sessionStatus: { status: 'pending', version: 7, run: run(8, 6) } }) });
    expect(view.applications.map((a) => [a.id, a.stepIndex])).toEqual([[1, 1], [2, 5]]);
  });

  it('keeps the loaded status when the live one is not newer (the query answered after the event)', () => {
    const status = collectStatus(undefined, { sessionStatus: { status: 'pending', version: 3, run: run(7, 2) } });
    expect(combineSession(history, { status }).session?.status).toBe('running');
  });

  it('holds a session loaded pending on its newest run with issues', () => {
    const view = combineSession({ ...history, session: session('pending', 5) }, {});
    expect(view.pending?.id).toBe(1);
  });
});
