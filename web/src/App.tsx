import { useEffect, useState } from 'react';
import { ConnectionBanner } from './components/ConnectionBanner.tsx';
import { ErrorBoundary } from './components/ErrorBoundary.tsx';
import { KeyPrompt } from './features/auth/KeyPrompt.tsx';
import { checkApiKey, forgetApiKey, KEY_REFUSED, storedApiKey } from './graphql/api-key.ts';
import { ComparePage } from './features/dashboard/ComparePage.tsx';
import { ProjectsPage } from './features/dashboard/ProjectsPage.tsx';
import { SessionPage } from './features/dashboard/SessionPage.tsx';
import { TrainerPage } from './features/trainer/TrainerPage.tsx';

/** Hash routes keep the app's paths apart from the REST API's (/projects, /sessions/...). */
function useHash(): string {
  const [hash, setHash] = useState(location.hash || '#/');
  useEffect(() => {
    const on = () => setHash(location.hash || '#/');
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return hash;
}

/** Whether the app may show its pages: the server opens to this browser's key (or needs none). */
type Gate = 'checking' | 'open' | 'prompt' | 'refused';

function useGate(): Gate {
  const [gate, setGate] = useState<Gate>('checking');
  useEffect(() => {
    const key = storedApiKey();
    const close = () => setGate(key ? 'refused' : 'prompt');
    // Unreachable: the pages say so themselves, as they do without keys.
    void checkApiKey(key).then((answer) => (answer === 'required' ? close() : setGate('open')));
    addEventListener(KEY_REFUSED, close);
    return () => removeEventListener(KEY_REFUSED, close);
  }, []);
  return gate;
}

export function App() {
  const hash = useHash();
  const gate = useGate();
  const key = storedApiKey();
  const session = /^#\/sessions\/(\d+)/.exec(hash);
  const compare = /^#\/compare\/([\d,]+)/.exec(hash);
  const page = gate === 'checking' ? (
    <p className="muted">Connecting…</p>
  ) : gate !== 'open' ? (
    <KeyPrompt refused={gate === 'refused'} />
  ) : session ? (
    <SessionPage key={session[1]} id={Number(session[1])} />
  ) : compare ? (
    <ComparePage ids={compare[1]!.split(',').map(Number)} />
  ) : hash.startsWith('#/train') ? (
    <TrainerPage />
  ) : (
    <ProjectsPage />
  );
  return (
    <div className="app">
      <nav className="nav">
        <a className="brand" href="#/">
          ◉ Observer
        </a>
        <a href="#/" className={!session && !hash.startsWith('#/train') ? 'active' : ''}>
          Dashboard
        </a>
        <a href="#/train" className={hash.startsWith('#/train') ? 'active' : ''}>
          Trainer
        </a>
        <span className="spacer" />
        <a href="/graphql" target="_blank" rel="noreferrer">
          GraphiQL
        </a>
        {key && (
          <button className="button" data-testid="forget-key" title={`API key ${key.slice(0, 12)}…`} onClick={forgetApiKey}>
            Forget key
          </button>
        )}
      </nav>
      <main>
        <ConnectionBanner />
        <ErrorBoundary key={hash}>{page}</ErrorBoundary>
      </main>
    </div>
  );
}
