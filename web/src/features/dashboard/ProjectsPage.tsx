import { useEffect, useState } from 'react';
import { useQuery } from 'urql';
import { StatusBadge } from '../../components/StatusBadge.tsx';
import { wsClient } from '../../graphql/client.ts';
import { PROJECTS } from '../../graphql/queries.ts';

interface SessionRow {
  id: number;
  runName: string | null;
  runId: string;
  status: string;
  startedAt: string;
  stepCount: number;
}

/** Keeps one session's badge live from its status subscription. */
function LiveStatus({ id, initial }: { id: number; initial: string }) {
  const [status, setStatus] = useState(initial);
  useEffect(
    () =>
      wsClient.subscribe<{ sessionStatus: { status: string } }>(
        { query: 'subscription($id: Int!) { sessionStatus(sessionId: $id) { status } }', variables: { id } },
        { next: ({ data }) => data && setStatus(data.sessionStatus.status), error: () => {}, complete: () => {} },
      ),
    [id],
  );
  return <StatusBadge status={status} />;
}

/** Projects and their sessions (from any client: the trainer, Python, GraphQL), newest first. */
export function ProjectsPage() {
  const [{ data, fetching, error }, refetch] = useQuery<{ projects: { id: number; name: string; sessions: SessionRow[] }[] }>({ query: PROJECTS });
  const [compare, setCompare] = useState<number[]>([]);
  // A new session (from any client) re-reads the list; statuses update through their own subscriptions.
  useEffect(
    () =>
      wsClient.subscribe(
        { query: 'subscription { sessionCreated { id } }' },
        { next: () => refetch({ requestPolicy: 'network-only' }), error: () => {}, complete: () => {} },
      ),
    [refetch],
  );
  if (error) return <div className="error">Could not reach the server: {error.message}</div>;
  if (fetching && !data) return <div className="muted">Loading…</div>;
  const projects = data?.projects ?? [];
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
      {projects.length === 0 && <p className="muted">No project yet. Start one from the trainer, or POST /projects.</p>}
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
