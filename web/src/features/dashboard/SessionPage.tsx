import { useMemo, useState } from 'react';
import { useClient, useMutation } from 'urql';
import { LineChart, type Series } from '../../components/LineChart.tsx';
import { LiveBanner } from '../../components/LiveBanner.tsx';
import { Severity, StatusBadge } from '../../components/StatusBadge.tsx';
import { asObject } from '../../graphql/graphql.ts';
import { metric } from '../../graphql/metric.ts';
import { ACTION, remedyInput, type StepRow } from '../../graphql/queries.ts';
import { useSession } from '../../graphql/useSession.ts';
import { architectureOf, carbonOf, pendingTimeoutOf, topKernelsOf } from './channels.ts';
import { LayerGraph } from './LayerGraph.tsx';
import { LayerHeatmap } from './LayerHeatmap.tsx';
import { topRemedies } from '@observer/tfjs';
import { fixLabel, PendingDialog, sureness } from './PendingDialog.tsx';
import { exportCsv, exportJson } from './export.ts';
import { trainingStepAxis } from './step-axis.ts';

const LEVELS = ['DEBUG', 'INFO', 'WARNING', 'ERROR', 'CRITICAL'];

function seriesOf(steps: StepRow[], pick: (s: StepRow) => unknown): (number | null)[] {
  return steps.map((s) => metric(pick(s)));
}

/** One session, live: charts, diagnostics, logs, model and the pending prompt. */
export function SessionPage({ id, embedded = false }: { id: number; embedded?: boolean }) {
  const { session, steps, runs, logs, pending, applications, error, live } = useSession(id);
  const [, act] = useMutation(ACTION);
  const client = useClient();
  // A long session takes a few pages to fetch; a failed export says why instead of doing nothing.
  const [exportNote, setExportNote] = useState<{ text: string; failed: boolean } | null>(null);
  const exporting = exportNote !== null && !exportNote.failed;
  const exportAs = (format: 'JSON' | 'CSV', run: () => Promise<void>) => {
    setExportNote({ text: `Exporting ${format}…`, failed: false });
    run().then(
      () => setExportNote(null),
      (e: unknown) => setExportNote({ text: `The ${format} export failed: ${(e as Error).message}`, failed: true }),
    );
  };
  const [minLevel, setMinLevel] = useState('INFO');
  const axis = useMemo(() => trainingStepAxis(steps), [steps]);
  // Each resume with remedies, at the last flush stored when it was chosen: a dashed line on every chart.
  const markers = useMemo(
    () =>
      applications.flatMap((a) => {
        if (a.stepIndex === null) return [];
        let i = -1;
        for (let k = 0; k < steps.length && steps[k]!.stepIndex <= a.stepIndex; k++) i = k;
        return i < 0 ? [] : [{ x: axis.xs[i]!, label: fixLabel(a.remedies) }];
      }),
    [applications, steps, axis],
  );
  const lossSeries = useMemo<Series[]>(() => {
    const valOf = (s: StepRow) => asObject(s.loss?.val);
    const names = Object.keys(steps.map(valOf).find((v) => v !== null) ?? {});
    const key = names.find((k) => /loss/.test(k)) ?? names[0];
    return [
      { label: 'train loss', color: '#4f8cff', values: seriesOf(steps, (s) => s.loss?.trainMean) },
      ...(key ? [{ label: key, color: '#f5a623', values: seriesOf(steps, (s) => valOf(s)?.[key]) }] : []),
    ];
  }, [steps]);
  const speed = useMemo<Series[]>(() => [{ label: 'samples/s', color: '#2ecc71', values: seriesOf(steps, (s) => s.throughput?.samplesPerSecond) }], [steps]);
  const memory = useMemo<Series[]>(() => [{ label: 'tensors', color: '#b06cff', values: seriesOf(steps, (s) => s.memory?.numTensors) }], [steps]);
  const health = useMemo(() => {
    const byStep = new Map(runs.filter((r) => r.stepIndex !== null).map((r) => [r.stepIndex!, r.healthScore]));
    return [{ label: 'health (runs with issues)', color: '#ff7a45', values: steps.map((s) => byStep.get(s.stepIndex) ?? null) }];
  }, [runs, steps]);

  if (!session) return error ? <div className="error">{error}</div> : <div className="muted">Loading session…</div>;
  const hp = asObject(session.model?.hyperparameters) ?? {};
  const arch = architectureOf(session.model?.architecture);
  const carbon = carbonOf(steps.at(-1)?.carbonEmissions);
  const profile = topKernelsOf(steps.findLast((s) => topKernelsOf(s.profiler))?.profiler);
  const pendingTimeout = pendingTimeoutOf(session.config);
  const visibleLogs = logs.filter((l) => LEVELS.indexOf(l.level) >= LEVELS.indexOf(minLevel));

  return (
    <div>
      <div className="toolbar">
        <h1>
          {session.runName ?? session.runId} <span className="muted">#{session.id}</span>
        </h1>
        <StatusBadge status={session.status} />
        <span className="health" data-testid="health">
          health {session.latestDiagnostics?.healthScore ?? '–'}
        </span>
        <span className="spacer" />
        {['running', 'analyzing'].includes(session.status) && (
          <button className="button" data-testid="session-pause" title="Training holds at its next step until resumed" onClick={() => act({ id, action: 'pause' })}>
            Pause
          </button>
        )}
        {session.status === 'paused' && (
          <button className="button primary" data-testid="session-resume" onClick={() => act({ id, action: 'resume' })}>
            Resume
          </button>
        )}
        {['running', 'analyzing', 'pending', 'paused'].includes(session.status) && (
          <button className="button danger" onClick={() => act({ id, action: 'stop' })}>
            Stop
          </button>
        )}
        <button className="button" disabled={exporting} onClick={() => exportAs('JSON', () => exportJson(client, id))}>
          Export JSON
        </button>
        <button className="button" disabled={exporting} onClick={() => exportAs('CSV', () => exportCsv(client, id, session.runId))}>
          Export CSV
        </button>
        <a className="button" href="/graphql" target="_blank" rel="noreferrer">
          GraphiQL
        </a>
      </div>
      <LiveBanner error={live.error} retry={live.retry} />
      {/* A later read failed (a reload after a reconnection, a page of a long session): what was read stays. */}
      {error && (
        <p className="warning" data-testid="session-error">
          Could not read all of the session: {error}
        </p>
      )}
      {exportNote && (
        <p className={exportNote.failed ? 'warning' : 'muted'} data-testid="export-status">
          {exportNote.text}
        </p>
      )}
      <p className="muted">
        {session.device ?? 'device unknown'} · started {new Date(session.startedAt).toLocaleString()} · {steps.length} flush{steps.length === 1 ? '' : 'es'}
        {axis.unit === 'training step' && steps.length ? ` · ${axis.exact ? '' : 'about '}${axis.xs.at(-1)!.toLocaleString()} training steps` : ''}
        {carbon ? ` · ${(carbon.energyKwh * 1000).toFixed(2)} Wh, ${(carbon.emissionsKg * 1000).toFixed(2)} g CO₂e (${carbon.country ?? '?'}, ${carbon.deviceWatts ?? '?'} W assumed)` : ''}
      </p>
      <div className="grid">
        {(
          [
            ['Loss', lossSeries],
            ['Throughput', speed],
            ['Memory', memory],
            ['Health score', health],
          ] as const
        ).map(([title, series]) => (
          <div className="card" key={title}>
            {title === 'Health score' && !series.some((x) => x.values.some((v) => v !== null)) ? (
              <div className="chart-empty">
                <h2>Health score</h2>
                <p className="ok-text">{steps.length ? `100: no diagnostic run found a problem in ${steps.length} flush${steps.length === 1 ? '' : 'es'}.` : 'No steps yet.'}</p>
                <p className="muted">The score drops here when a run finds an issue (critical −25, warning −8, info −2).</p>
              </div>
            ) : (
              <LineChart title={title} xs={axis.xs} series={series} xLabel={axis.unit} markers={markers} />
            )}
          </div>
        ))}
      </div>
      <div className="grid">
        <section className="card">
          <h2>Diagnostics</h2>
          {runs.length === 0 && <p className="muted">No issue so far.</p>}
          {applications.length > 0 && (
            <ul className="issues timeline" data-testid="remedies">
              {[...applications].reverse().map((a) => (
                <li key={`remedy-${a.id}`} className="issue issue-remedy">
                  <div>
                    <strong>Resumed with: {fixLabel(a.remedies)}</strong>{' '}
                    <span className="muted">
                      step {a.stepIndex ?? '?'} · {a.source ?? 'a client'} · chosen by {a.chosenBy}
                    </span>
                  </div>
                  <p className="muted">
                    {a.report
                      ? a.report.map((r) => `${r.kind.replace(/_/g, ' ')}: ${r.applied ? 'applied' : 'not applied'}${r.detail ? ` (${r.detail})` : ''}`).join('; ')
                      : 'The observer has not reported yet.'}
                  </p>
                </li>
              ))}
            </ul>
          )}
          <ul className="issues timeline" data-testid="diagnostics">
            {runs.slice(0, 50).map((r) =>
              r.issues.map((i, k) => (
                <li key={`${r.id}-${k}`} className={`issue issue-${i.severity}`}>
                  <div>
                    <Severity severity={i.severity} /> <strong>{i.title}</strong>{' '}
                    <span className="muted">
                      step {r.stepIndex ?? 'model'} · {i.category}
                      {i.layerId ? ` · layer ${i.layerId}` : ''}
                      {sureness(i.confidence)}
                    </span>
                  </div>
                  <p>{i.description}</p>
                  <p className="suggestion">{i.suggestion}</p>
                </li>
              )),
            )}
          </ul>
        </section>
        <section className="card">
          <div className="toolbar small">
            <h2>Logs</h2>
            <select value={minLevel} onChange={(e) => setMinLevel(e.target.value)} aria-label="minimum log level">
              {LEVELS.map((l) => (
                <option key={l}>{l}</option>
              ))}
            </select>
          </div>
          <pre className="logs" data-testid="logs">
            {visibleLogs.slice(-200).map((l) => (
              <div key={l.id} className={`log log-${l.level}`}>
                <span className="muted">{l.ts?.slice(11, 19) ?? ''}</span> {l.level.padEnd(7)} {l.msg}
              </div>
            ))}
          </pre>
        </section>
      </div>
      <div className="grid">
        <section className="card">
          <h2>Layer health</h2>
          <LayerHeatmap steps={steps} />
        </section>
        <section className="card">
          <h2>Profiler</h2>
          {profile ? (
            <table className="table">
              <thead>
                <tr>
                  <th>kernel</th>
                  <th>calls</th>
                  <th>ms</th>
                </tr>
              </thead>
              <tbody>
                {profile.slice(0, 12).map((o, k) => (
                  <tr key={`${o.name}-${k}`}>
                    <td>{o.name}</td>
                    <td>{o.calls ?? ''}</td>
                    <td>{o.ms.toFixed(2)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          ) : (
            <p className="muted">No profile yet.</p>
          )}
        </section>
      </div>
      <div className="grid">
        <section className="card">
          <h2>Hyperparameters</h2>
          <table className="table">
            <tbody>
              {Object.entries(hp).map(([k, v]) => (
                <tr key={k}>
                  <td>{k}</td>
                  <td>{JSON.stringify(v)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
        <section className="card">
          <h2>Architecture</h2>
          {arch ? (
            <>
              <p className="muted">{arch.totalParameters.toLocaleString()} parameters</p>
              <table className="table">
                <thead>
                  <tr>
                    <th>layer</th>
                    <th>type</th>
                    <th>params</th>
                    <th>%</th>
                  </tr>
                </thead>
                <tbody>
                  {arch.layers.map((l) => (
                    <tr key={l.name}>
                      <td>{l.name}</td>
                      <td>{l.type}</td>
                      <td>{l.parameters.toLocaleString()}</td>
                      <td>{l.pctOfTotal.toFixed(1)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
              {arch.graph ? (
                <>
                  <h3>Layer graph</h3>
                  <LayerGraph graph={arch.graph} />
                </>
              ) : null}
            </>
          ) : (
            <p className="muted">No model registered.</p>
          )}
        </section>
      </div>
      {!embedded && pending && session.status === 'pending' && (
        <PendingDialog
          issues={pending.issues}
          deadline={new Date(pending.createdAt).getTime() + pendingTimeout * 1000}
          onResume={() => act({ id, action: 'resume' })}
          onStop={() => act({ id, action: 'stop' })}
          fix={{
            remedies: topRemedies(pending.issues),
            onApply: () => act({ id, action: 'resume', remedies: topRemedies(pending.issues).map(remedyInput), source: 'dashboard' }),
          }}
        />
      )}
    </div>
  );
}
