/**
 * The empty dashboard's next steps: three lines that send a run to this server, for the seed's
 * Python client and for the tfjs package, with this server's URL and a project filled in.
 */

export interface Snippets {
  /** Creates a project, when there is none to train in yet. */
  createProject: string | null;
  python: string;
  tfjs: string;
}

/** A quoted string literal of both languages (URLs hold no quotes, but a name might). */
const quoted = (s: string) => JSON.stringify(s);

/**
 * @param origin this server's URL as the browser reaches it, e.g. `http://localhost:8000`
 * @param projectId the project to train in, or null when there is none yet (then one is created first, as project 1)
 */
export function snippets(origin: string, projectId: number | null): Snippets {
  const project = projectId ?? 1;
  return {
    createProject:
      projectId === null ? `curl -X POST ${origin}/projects -H 'content-type: application/json' -d '{"name": "my project"}'` : null,
    python: [
      `from observer import Observer, ObserverConfig  # the seed's Python client, sending to ${origin}`,
      `obs = Observer(project_id=${project}, config=ObserverConfig(), run_name="my-run")`,
      `obs.step(step, loss, batch_size=len(x)); obs.flush()  # in your loop, then obs.close()`,
    ].join('\n'),
    tfjs: [
      `import { Observer } from '@observer/tfjs';`,
      `await using obs = await Observer.create({ projectId: ${project}, runName: 'my-run', config: { serverUrl: ${quoted(origin)} } });`,
      `await model.fit(xs, ys, { epochs: 5, callbacks: obs.callbacks({ flushEvery: 50 }) });`,
    ].join('\n'),
  };
}
