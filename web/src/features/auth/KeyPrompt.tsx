import { useState, type FormEvent } from 'react';
import { checkApiKey, saveApiKey } from '../../graphql/api-key.ts';

/**
 * Shown when the server requires an API key and this browser has none (or one it refuses):
 * asks for it, checks it against the server, and keeps it in this browser.
 */
export function KeyPrompt({ refused }: { refused: boolean }) {
  const [key, setKey] = useState('');
  const [problem, setProblem] = useState<string | null>(refused ? 'The server refused the stored key (revoked or mistyped). Enter another one.' : null);
  const [busy, setBusy] = useState(false);

  async function submit(e: FormEvent) {
    e.preventDefault();
    const candidate = key.trim();
    if (!candidate) return setProblem('Paste an API key first.');
    setBusy(true);
    const answer = await checkApiKey(candidate);
    setBusy(false);
    if (answer === 'ok') return saveApiKey(candidate);
    setProblem(answer === 'required' ? 'The server refused this key.' : 'The server cannot be reached; try again.');
  }

  return (
    <div className="key-prompt card" data-testid="key-prompt">
      <h2>This server requires an API key</h2>
      <p className="muted">
        Ask its administrator for a key: a <b>read</b> key to watch a project's sessions, a <b>write</b> key to train too. It is kept in this
        browser (localStorage) until you forget it from the menu.
      </p>
      <form onSubmit={(e) => void submit(e)}>
        <input
          data-testid="api-key"
          type="password"
          autoComplete="off"
          placeholder="obs_…"
          value={key}
          onChange={(e) => setKey(e.target.value)}
          aria-label="API key"
        />
        <button className="button primary" type="submit" disabled={busy} data-testid="save-key">
          {busy ? 'Checking…' : 'Use this key'}
        </button>
      </form>
      {problem && (
        <p className="error" role="alert" data-testid="key-problem">
          {problem}
        </p>
      )}
    </div>
  );
}
