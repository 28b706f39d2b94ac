import { snippets } from './snippets.ts';

/**
 * The dashboard with no session yet: what to do next. Train in this tab, or send a run from
 * Python or from tfjs with the three lines shown (this server's URL filled in).
 */
export function GettingStarted({ projectId }: { projectId: number | null }) {
  const s = snippets(location.origin, projectId);
  return (
    <section className="card getting-started" data-testid="getting-started">
      <h2>No training session yet</h2>
      <p>
        <a className="button primary" href="#/train">
          Open the trainer
        </a>{' '}
        to train an MLP, a CNN or MiniGPT in this tab, or send a run from your own code; it shows up here live.
      </p>
      {s.createProject && (
        <>
          <h3>First, a project</h3>
          <pre className="snippet">{s.createProject}</pre>
        </>
      )}
      <h3>Python (the seed&apos;s Observer)</h3>
      <pre className="snippet" data-testid="snippet-python">
        {s.python}
      </pre>
      <h3>TensorFlow.js (@observer/tfjs)</h3>
      <pre className="snippet" data-testid="snippet-tfjs">
        {s.tfjs}
      </pre>
    </section>
  );
}
