import { useCallback, useEffect, useMemo, useReducer, useRef, useState } from 'react';
import { useClient, useSubscription, type CombinedError } from 'urql';
import { DETAIL_WINDOW, LOG_EVENTS, REMEDIES, rowsFromSeries, SERIES_AFTER, SERIES_PAGE, SESSION, STATUS_EVENTS, STEP_EVENTS, STEPS_AFTER, type StepRow } from './queries.ts';
import { useConnection } from './useConnection.ts';
import { collectLogs, collectStatus, collectSteps, combineSession, EMPTY_HISTORY, reduceHistory, type SessionView } from './session-state.ts';

/** The live part of a session page: what stopped it, and how to start it again. */
export interface LiveState {
  /** The error that ended a subscription, or null while live. */
  error: CombinedError | null;
  /** Subscribes again and re-reads the history, so nothing missed meanwhile is lost. */
  retry(): void;
}

/** The newest value that was not undefined. */
function useLastDefined<T>(value: T | undefined): T | undefined {
  const last = useRef(value);
  if (value !== undefined) last.current = value;
  return last.current;
}

/**
 * A session, kept live: one query for its history, then only new points from urql's
 * subscriptions (a cursor re-fetch when the step subscription says it dropped events). A
 * subscription that fails is reported in `live.error`, never swallowed.
 */
export function useSession(id: number): SessionView & { live: LiveState } {
  const client = useClient();
  const [history, dispatch] = useReducer(reduceHistory, EMPTY_HISTORY);
  const [reloads, setReloads] = useState(0);
  const [steps, resubscribeSteps] = useSubscription({ query: STEP_EVENTS, variables: { id } }, collectSteps);
  const [status, resubscribeStatus] = useSubscription({ query: STATUS_EVENTS, variables: { id } }, collectStatus);
  const [logs, resubscribeLogs] = useSubscription({ query: LOG_EVENTS, variables: { id } }, collectLogs);
  // A socket lost and found again missed what was published meanwhile: read the history again.
  const { reconnects } = useConnection();
  const lastLoaded = useRef(-1);
  lastLoaded.current = history.steps.at(-1)?.stepIndex ?? -1;

  useEffect(() => {
    let alive = true;
    void (async () => {
      const r = await client.query(SESSION, { id, detail: DETAIL_WINDOW }, { requestPolicy: 'network-only' }).toPromise();
      if (!alive) return;
      if (!r.data) return dispatch({ type: 'error', error: r.error?.message ?? 'the session could not be read' });
      const { series, recent, diagnostics, logs: lines, remedies: applications, ...session } = r.data.session;
      // Chart columns for every step; heavy channels for the recent steps only, attached to theirs.
      const details = new Map(recent.map((d) => [d.stepIndex, d]));
      const rows = rowsFromSeries(series).map((x): StepRow => {
        const d = details.get(x.stepIndex);
        return d ? { ...x, ...d, loss: x.loss && { ...x.loss, numBatches: d.loss?.numBatches ?? null } } : x;
      });
      dispatch({ type: 'loaded', session, steps: rows, runs: diagnostics, logs: lines, applications });
      // The server answers at most SERIES_PAGE steps a call: page on for longer sessions.
      for (let page = series; alive && page.stepIndex.length === SERIES_PAGE; ) {
        const more = await client.query(SERIES_AFTER, { id, after: page.stepIndex.at(-1) ?? -1 }, { requestPolicy: 'network-only' }).toPromise();
        if (!alive) return;
        if (!more.data) return dispatch({ type: 'error', error: more.error?.message ?? 'the session could not be read' });
        page = more.data.session.series;
        dispatch({ type: 'steps', steps: rowsFromSeries(page) });
      }
    })();
    return () => {
      alive = false;
    };
  }, [id, client, reloads, reconnects]);

  // Steps after a cursor, merged into the history (an overlap is harmless: rows merge by index).
  const catchUp = useCallback(
    async (after: number, alive: () => boolean) => {
      const r = await client.query(STEPS_AFTER, { id, after }, { requestPolicy: 'network-only' }).toPromise();
      if (!alive()) return;
      if (r.data) dispatch({ type: 'steps', steps: r.data.session.steps });
      else dispatch({ type: 'error', error: r.error?.message ?? 'missed steps could not be read' });
    },
    [client, id],
  );

  // A lagging subscriber was told it missed steps: fetch them by cursor.
  const gaps = steps.data?.gaps ?? 0;
  const gapAfter = steps.data?.gapAfter ?? -1;
  useEffect(() => {
    if (!gaps) return;
    let alive = true;
    void catchUp(gapAfter >= 0 ? gapAfter : lastLoaded.current, () => alive);
    return () => {
      alive = false;
    };
  }, [catchUp, gaps, gapAfter]);

  // The history query may answer before the server has registered the step subscription (the
  // socket connects meanwhile): a step stored in between reaches neither. The status
  // subscription's first event (the current status) says the server has the page's
  // subscriptions, sent before it on the same socket: read the steps after the history then.
  const statusLive = status.data !== undefined;
  const loaded = history.session !== null;
  useEffect(() => {
    if (!statusLive || !loaded) return;
    let alive = true;
    void catchUp(lastLoaded.current, () => alive);
    return () => {
      alive = false;
    };
  }, [catchUp, statusLive, loaded]);

  const error = steps.error ?? status.error ?? logs.error ?? null;
  const retry = useCallback(() => {
    resubscribeSteps();
    resubscribeStatus();
    resubscribeLogs();
    setReloads((n) => n + 1);
  }, [resubscribeSteps, resubscribeStatus, resubscribeLogs]);

  // urql drops a subscription's data with its error: keep showing what arrived until a retry brings more.
  const liveSteps = useLastDefined(steps.data);
  const liveStatus = useLastDefined(status.data);
  const liveLogs = useLastDefined(logs.data);
  const view = useMemo(() => combineSession(history, { steps: liveSteps, status: liveStatus, logs: liveLogs }), [history, liveSteps, liveStatus, liveLogs]);

  // The observer reports what it applied of a resume's remedies after the resume's event: read
  // them again every 2 s (a minute at most) while one has no report.
  const unreported = view.applications.filter((a) => a.report === null).map((a) => a.id).join(',');
  useEffect(() => {
    if (!unreported) return;
    let tries = 0;
    const timer = setInterval(() => {
      if (++tries > 30) return clearInterval(timer);
      void client
        .query(REMEDIES, { id }, { requestPolicy: 'network-only' })
        .toPromise()
        .then((r) => r.data && dispatch({ type: 'applications', applications: r.data.session.remedies }));
    }, 2000);
    return () => clearInterval(timer);
  }, [client, id, unreported]);

  return { ...view, live: { error, retry } };
}
