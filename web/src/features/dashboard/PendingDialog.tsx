import { useEffect, useState } from 'react';
import { Severity } from '../../components/StatusBadge.tsx';
import type { Issue } from '../../graphql/queries.ts';

/** " · 83% sure" after an issue's category, when the rule said how sure it was. */
export function sureness(confidence: number | null | undefined): string {
  return typeof confidence === 'number' ? ` · ${Math.round(100 * confidence)}% sure` : '';
}

/** What the dialog shows of an issue: the dashboard's runs and the Observer's prompt both have it. */
export type DialogIssue = Pick<Issue, 'severity' | 'category' | 'title' | 'description' | 'suggestion' | 'confidence' | 'layerId'>;

/**
 * The pending prompt: the issues that paused training, Resume and Stop, and a countdown to
 * the moment the observer gives up waiting (checkpoints and stops).
 */
export function PendingDialog({ issues, deadline, onResume, onStop }: { issues: DialogIssue[]; deadline: number | null; onResume: () => void; onStop: () => void }) {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), 250);
    return () => clearInterval(t);
  }, []);
  const left = deadline ? Math.max(0, Math.ceil((deadline - now) / 1000)) : null;
  return (
    <div className="overlay" role="dialog" aria-modal="true" aria-labelledby="pending-title" data-testid="pending-dialog">
      <div className="dialog">
        <h2 id="pending-title">Training paused: your decision is needed</h2>
        <p className="muted">
          The diagnostics found {issues.length === 1 ? 'an issue' : `${issues.length} issues`} serious enough to pause.
          {left !== null && (
            <>
              {' '}
              Without a decision, the run is checkpointed and stopped in <strong data-testid="countdown">{left} s</strong>.
            </>
          )}
        </p>
        <ul className="issues">
          {issues.map((i, k) => (
            <li key={k} className={`issue issue-${i.severity}`}>
              <div>
                <Severity severity={i.severity} /> <strong>{i.title}</strong> <span className="muted">{i.category}{i.layerId ? ` · layer ${i.layerId}` : ''}{sureness(i.confidence)}</span>
              </div>
              <p>{i.description}</p>
              <p className="suggestion">{i.suggestion}</p>
            </li>
          ))}
        </ul>
        <div className="actions">
          <button className="button danger" onClick={onStop}>
            Stop
          </button>
          <button className="button primary" onClick={onResume} autoFocus>
            Resume
          </button>
        </div>
      </div>
    </div>
  );
}
