import { useEffect, useState } from 'react';
import { useQuery, useSubscription } from 'urql';
import { LiveBanner } from '../../components/LiveBanner.tsx';
import { StatusBadge } from '../../components/StatusBadge.tsx';
import { PROJECTS, SESSION_CREATED, STATUS_BADGE_EVENTS, type Status } from '../../graphql/queries.ts';
import { useConnection } from '../../graphql/useConnection.ts';
import { GettingStarted } from './GettingStarted.tsx';

/** Keeps one session's badge live from its status subscription (the newest version wins). */
function LiveStatus({ id, initial }: { id: number; initial: Status }) {
  const [{ data, error }, retry] = useSubscription({ query: STATUS_BADGE_EVENTS, variables: { id } }, (prev: { status: Status; version: number } | undefined, event) =>
    prev && prev.version >= event.sessionStatus.version ? prev : event.sessionStatus,
  );
  return (
    <>
      <StatusBadge status={data?.status ?? initial} />
      {error && (
        <button className="button small" title={`Live status stopped: ${error.message}`} onClick={() => retry()}>
          ↻
        </button>
      )}
    </>
  );
}

/** Projects and their sessions (from any client: the trainer, Python, GraphQL), newest first. */
export function ProjectsPage() {
  const [{ data, fetching, error }, refetch] = useQuery({ query: PROJECTS });
  const [compare, setCompare] = useState<number[]>([]);
  // A new session (from any client) re-reads the list; statuses update through their own subscriptions.
  const [created, resubscribe] = useSubscription({ query: SESSION_CREATED }, (count: number | undefined) => (count ?? 0) + 1);
  // Sessions created while the socket was lost are read again once it is back.
  const { reconnects } = useConnection();
  useEffect(() => {
    if (created.data || reconnects) refetch({ requestPolicy: 'network-only' });
  }, [created.data, reconnects, refetch]);
  if (error) return <div className="error">Could not reach the server: {error.message}</div>;
  if (fetching && !data) return <div className="muted">Loading…</div>;
  const projects = data?.projects ?? [];
  const sessions = projects.reduce((n, p) => n + p.sessions.length, 0);
  return (
    <div>
      <div className="toolbar">
        <h1>Projects</h1>
        {compare.length >= 2 && (
          <a className="button" href={`#/compare/${compare.join(',')}`}>
            Compare {compare.length} sessions
          </a>
        )}
      </div>
      <LiveBanner
        error={created.error ?? null}
        retry={() => {
          resubscribe();
          refetch({ requestPolicy: 'network-only' });
        }}
      />
      {sessions === 0 && <GettingStarted projectId={projects[0]?.id ?? null} />}
      {projects.map((p) => (
        <section key={p.id} className="card">
          <h2>
            {p.name} <span className="muted">#{p.id}</span>
          </h2>
          <table className="table" data-testid={`project-${p.id}`}>
            <thead>
              <tr>
                <th />
                <th>session</th>
                <th>status</th>
                <th>steps</th>
                <th>started</th>
              </tr>
            </thead>
            <tbody>
              {p.sessions.map((s) => (
                <tr key={s.id} data-testid={`session-row-${s.id}`}>
                  <td>
                    <input
                      type="checkbox"
                      aria-label={`compare session ${s.id}`}
                      checked={compare.includes(s.id)}
                      onChange={(e) => setCompare((c) => (e.target.checked ? [...c, s.id] : c.filter((x) => x !== s.id)))}
                    />
                  </td>
                  <td>
                    <a href={`#/sessions/${s.id}`}>{s.runName ?? s.runId}</a> <span className="muted">#{s.id}</span>
                  </td>
                  <td>
                    <LiveStatus id={s.id} initial={s.status} />
                  </td>
                  <td>{s.stepCount}</td>
                  <td className="muted">{new Date(s.startedAt).toLocaleString()}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      ))}
    </div>
  );
}
