import { useEffect, useMemo, useReducer } from 'react';
import { useClient } from 'urql';
import { wsClient } from './client.ts';
import { LOG_EVENTS, rowsFromSeries, SERIES_AFTER, SERIES_PAGE, SESSION, STATUS_EVENTS, STEP_EVENTS, STEPS_AFTER, type LogRow, type Run, type SeriesColumns, type StepRow } from './queries.ts';

export interface SessionData {
  id: number;
  runId: string;
  runName: string | null;
  status: string;
  startedAt: string;
  endedAt: string | null;
  device: string | null;
  config: Record<string, unknown> | null;
  metadata: Record<string, unknown> | null;
  projectId: number;
  model: { architecture: Record<string, any> | null; hyperparameters: Record<string, unknown> | null } | null;
  latestDiagnostics: { healthScore: number; issueCount: number } | null;
}

interface State {
  session: SessionData | null;
  steps: StepRow[];
  runs: Run[];
  logs: LogRow[];
  pending: Run | null;
  error: string | null;
}

type Action =
  | { type: 'loaded'; session: SessionData; steps: StepRow[]; runs: Run[]; logs: LogRow[] }
  | { type: 'steps'; steps: StepRow[] }
  | { type: 'status'; status: string; run: Run | null }
  | { type: 'log'; log: LogRow }
  | { type: 'error'; error: string };

/** Appends steps by index (a re-fetch after a lagging subscription may overlap). */
function mergeSteps(a: StepRow[], b: StepRow[]): StepRow[] {
  if (!b.length) return a;
  const last = a.length ? a[a.length - 1]!.stepIndex : -1;
  if (b.every((s) => s.stepIndex > last)) return [...a, ...b];
  const byIndex = new Map(a.map((s) => [s.stepIndex, s]));
  for (const s of b) byIndex.set(s.stepIndex, s);
  return [...byIndex.values()].sort((x, y) => x.stepIndex - y.stepIndex);
}

function reduce(state: State, action: Action): State {
  switch (action.type) {
    case 'loaded':
      return {
        ...state,
        session: action.session,
        steps: mergeSteps(action.steps, state.steps),
        runs: action.runs,
        logs: action.logs,
        pending: action.session.status === 'pending' ? (action.runs[0] ?? null) : null,
        error: null,
      };
    case 'steps':
      return { ...state, steps: mergeSteps(state.steps, action.steps) };
    case 'status': {
      if (!state.session) return state;
      const runs = action.run && action.run.issues.length && !state.runs.some((r) => r.id === action.run!.id) ? [action.run, ...state.runs] : state.runs;
      const latest = action.run ? { healthScore: action.run.healthScore, issueCount: action.run.issues.length } : state.session.latestDiagnostics;
      return {
        ...state,
        runs,
        session: { ...state.session, status: action.status, latestDiagnostics: latest },
        pending: action.status === 'pending' ? (action.run ?? state.pending ?? runs[0] ?? null) : null,
      };
    }
    case 'log':
      return { ...state, logs: [...state.logs.slice(-999), action.log] };
    case 'error':
      return { ...state, error: action.error };
  }
}

/**
 * A session, kept live: one query for its history, then only new points from the
 * subscriptions (a cursor re-fetch when a subscription says it dropped events).
 */
export function useSession(id: number) {
  const client = useClient();
  const [state, dispatch] = useReducer(reduce, { session: null, steps: [], runs: [], logs: [], pending: null, error: null });

  useEffect(() => {
    let alive = true;
    let lastIndex = -1;
    const unsubs: (() => void)[] = [];
    unsubs.push(
      wsClient.subscribe<{ sessionSteps: { missedBefore: number; step: StepRow } }>(
        { query: STEP_EVENTS, variables: { id } },
        {
          next: async ({ data }) => {
            if (!data || !alive) return;
            const { missedBefore, step } = data.sessionSteps;
            if (missedBefore > 0 && lastIndex >= 0) {
              const r = await client.query(STEPS_AFTER, { id, after: lastIndex }, { requestPolicy: 'network-only' }).toPromise();
              if (r.data) dispatch({ type: 'steps', steps: r.data.session.steps });
            }
            lastIndex = Math.max(lastIndex, step.stepIndex);
            dispatch({ type: 'steps', steps: [step] });
          },
          error: () => {},
          complete: () => {},
        },
      ),
    );
    unsubs.push(
      wsClient.subscribe<{ sessionStatus: { status: string; run: Run | null } }>(
        { query: STATUS_EVENTS, variables: { id } },
        { next: ({ data }) => data && alive && dispatch({ type: 'status', status: data.sessionStatus.status, run: data.sessionStatus.run }), error: () => {}, complete: () => {} },
      ),
    );
    unsubs.push(
      wsClient.subscribe<{ sessionLogs: { log: LogRow } }>(
        { query: LOG_EVENTS, variables: { id } },
        { next: ({ data }) => data && alive && dispatch({ type: 'log', log: data.sessionLogs.log }), error: () => {}, complete: () => {} },
      ),
    );
    client
      .query(SESSION, { id }, { requestPolicy: 'network-only' })
      .toPromise()
      .then(async (r) => {
        if (!alive) return;
        if (r.error) return dispatch({ type: 'error', error: r.error.message });
        const s = r.data.session;
        const series = s.series as SeriesColumns;
        lastIndex = Math.max(lastIndex, series.stepIndex.at(-1) ?? -1);
        // Chart columns for every step; heavy channels for the recent steps only, attached to theirs.
        const details = new Map<number, Partial<StepRow>>((s.recent as (Partial<StepRow> & { stepIndex: number })[]).map((d) => [d.stepIndex, d]));
        const steps = rowsFromSeries(series).map((x) => (details.has(x.stepIndex) ? { ...x, ...details.get(x.stepIndex) } : x));
        dispatch({ type: 'loaded', session: s, steps, runs: s.diagnostics, logs: s.logs });
        // The server answers at most SERIES_PAGE steps a call: page on for longer sessions.
        for (let page = series; alive && page.stepIndex.length === SERIES_PAGE; ) {
          const more = await client.query(SERIES_AFTER, { id, after: page.stepIndex.at(-1) }, { requestPolicy: 'network-only' }).toPromise();
          if (!alive) return;
          if (more.error) return dispatch({ type: 'error', error: more.error.message });
          if (!more.data) return;
          page = more.data.session.series as SeriesColumns;
          lastIndex = Math.max(lastIndex, page.stepIndex.at(-1) ?? -1);
          dispatch({ type: 'steps', steps: rowsFromSeries(page) });
        }
      });
    return () => {
      alive = false;
      unsubs.forEach((u) => u());
    };
  }, [id, client]);

  return useMemo(() => state, [state]);
}
