import { useEffect, useState } from 'react';
import { Severity } from '../../components/StatusBadge.tsx';
import type { Issue } from '../../graphql/queries.ts';

/** " · 83% sure" after an issue's category, when the rule said how sure it was. */
export function sureness(confidence: number | null | undefined): string {
  return typeof confidence === 'number' ? ` · ${Math.round(100 * confidence)}% sure` : '';
}

/** What the dialog shows of an issue: the dashboard's runs and the Observer's prompt both have it. */
export type DialogIssue = Pick<Issue, 'severity' | 'category' | 'title' | 'description' | 'suggestion' | 'confidence' | 'layerId'>;

/** A remedy as the dialog shows it: what it does and why (the server's proposal or the Observer's prompt). */
export interface DialogRemedy {
  summary?: string | null;
  reason?: string | null;
}

/** "Roll back to step 380 and lower the learning rate 10x": a fix's remedies in the order they apply. */
export function fixLabel(remedies: readonly DialogRemedy[]): string {
  const words = remedies.map((r) => r.summary ?? '').filter(Boolean);
  const text = words.length > 1 ? `${words.slice(0, -1).join(', ')} and ${words.at(-1)}` : (words[0] ?? 'apply the fix');
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/**
 * The pending prompt: the issues that paused training, the fix the diagnostics propose (one
 * button that resumes with it, each remedy's reason beside it), Resume as it was and Stop, and
 * a countdown to the moment the observer gives up waiting (checkpoints and stops).
 */
export function PendingDialog({
  issues,
  deadline,
  onResume,
  onStop,
  fix,
}: {
  issues: DialogIssue[];
  deadline: number | null;
  onResume: () => void;
  onStop: () => void;
  /** The proposed remedies and what resuming with them does; no fix button without. */
  fix?: { remedies: readonly DialogRemedy[]; onApply: () => void } | null;
}) {
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
        {fix && fix.remedies.length > 0 && (
          <div className="fix" data-testid="pending-fix">
            <h3>Proposed fix</h3>
            <ul>
              {fix.remedies.map((r, k) => (
                <li key={k}>
                  <strong>{fixLabel([r])}</strong>
                  {r.reason ? <span className="muted"> — {r.reason}</span> : null}
                </li>
              ))}
            </ul>
          </div>
        )}
        <div className="actions">
          <button className="button danger" onClick={onStop}>
            Stop
          </button>
          <button className={`button${fix && fix.remedies.length ? '' : ' primary'}`} onClick={onResume} autoFocus={!(fix && fix.remedies.length)}>
            {fix && fix.remedies.length ? 'Resume as it was' : 'Resume'}
          </button>
          {fix && fix.remedies.length > 0 && (
            <button className="button primary" data-testid="resume-with-fix" onClick={fix.onApply} autoFocus>
              {fixLabel(fix.remedies)}
            </button>
          )}
        </div>
      </div>
    </div>
  );
}
