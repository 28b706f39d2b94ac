import { useEffect, useState } from 'react';
import { ErrorBoundary } from './components/ErrorBoundary.tsx';
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

export function App() {
  const hash = useHash();
  const session = /^#\/sessions\/(\d+)/.exec(hash);
  const compare = /^#\/compare\/([\d,]+)/.exec(hash);
  const page = session ? (
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
      </nav>
      <main>
        <ErrorBoundary key={hash}>{page}</ErrorBoundary>
      </main>
    </div>
  );
}
