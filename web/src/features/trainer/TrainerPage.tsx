import { useEffect, useRef, useState } from 'react';
import { useClient } from 'urql';
import { CREATE_PROJECT, TRAINER_PROJECTS } from '../../graphql/queries.ts';
import type { PendingPrompt } from '@observer/tfjs';
import { SessionPage } from '../dashboard/SessionPage.tsx';
import { PendingDialog } from '../dashboard/PendingDialog.tsx';
import { loadMnist, loadMobyDick, type Dataset, type TextCorpus } from './data.ts';
import { chooseBackend, type Backend } from './backend.ts';
import type { Faults, Hyperparameters } from './hyperparameters.ts';
import { ModelTooBigError } from './memory.ts';
import { train, type Progress, type SessionControls } from './training.ts';

const DEFAULTS: Record<Hyperparameters['model'], Hyperparameters> = {
  mlp: { model: 'mlp', learningRate: 0.001, batchSize: 64, steps: 300, flushEvery: 20, hidden: 64, layers: 2, context: 64 },
  cnn: { model: 'cnn', learningRate: 0.001, batchSize: 64, steps: 300, flushEvery: 20, hidden: 64, layers: 2, context: 64 },
  minigpt: { model: 'minigpt', learningRate: 0.003, batchSize: 16, steps: 400, flushEvery: 20, hidden: 64, layers: 2, context: 64 },
};

async function projectId(client: ReturnType<typeof useClient>): Promise<number> {
  const r = await client.query(TRAINER_PROJECTS, {}, { requestPolicy: 'network-only' }).toPromise();
  const projects = r.data?.projects ?? [];
  const existing = projects.find((p) => p.name === 'Web trainer');
  if (existing) return existing.id;
  const c = await client.mutation(CREATE_PROJECT, { name: 'Web trainer' }).toPromise();
  if (c.data) return c.data.createProject.id;
  // A project's key may not create projects: train in the project it opens.
  if (projects[0]) return projects[0].id;
  throw c.error ?? new Error('no project to train in');
}

/** Train on MNIST in this tab with the Observer watching; the session's dashboard shows below. */
export function TrainerPage() {
  const client = useClient();
  const [hyper, setHyper] = useState(DEFAULTS.mlp);
  const [backend, setBackend] = useState<Backend>('webgpu');
  const [faults, setFaults] = useState<Faults>({ lrSpikeAt: null, nanAt: [], deadRelu: false, leak: false });
  const [data, setData] = useState<{ train: Dataset; test: Dataset } | null>(null);
  const [text, setText] = useState<TextCorpus | null>(null);
  const [tooBig, setTooBig] = useState<string | null>(null);
  // What each dataset's load says, and what the last run says; the page shows the run's words
  // if there are any, else those of the chosen model's dataset (the two loads race each other).
  const [dataStatus, setDataStatus] = useState<{ mnist: string; text: string }>({ mnist: 'Loading MNIST…', text: 'Loading Moby Dick…' });
  const [runStatus, setStatus] = useState<string | null>(null);
  const [backendNote, setBackendNote] = useState<string | null>(null);
  const [running, setRunning] = useState(false);
  const [progress, setProgress] = useState<Progress | null>(null);
  const controls = useRef<SessionControls | null>(null);
  const [prompt, setPrompt] = useState<PendingPrompt | null>(null);
  const stop = useRef(false);

  useEffect(() => {
    const started = performance.now();
    Promise.all([loadMnist('train'), loadMnist('test')])
      .then(([train, test]) => {
        setData({ train, test });
        setDataStatus((d) => ({ ...d, mnist: `Ready: ${train.count} training and ${test.count} test digits loaded in ${Math.round(performance.now() - started)} ms` }));
      })
      .catch((e) => setDataStatus((d) => ({ ...d, mnist: `Could not load MNIST: ${(e as Error).message}` })));
  }, []);

  useEffect(() => {
    if (hyper.model !== 'minigpt' || text) return;
    const started = performance.now();
    loadMobyDick()
      .then((t) => {
        setText(t);
        setDataStatus((d) => ({ ...d, text: `Ready: Moby Dick loaded (${t.tokens.length.toLocaleString()} characters, a vocabulary of ${t.vocabulary.length}) in ${Math.round(performance.now() - started)} ms` }));
      })
      .catch((e) => setDataStatus((d) => ({ ...d, text: `Could not load Moby Dick: ${(e as Error).message}` })));
  }, [hyper.model, text]);

  const ready = hyper.model === 'minigpt' ? text !== null : data !== null;
  const status = runStatus ?? (hyper.model === 'minigpt' ? dataStatus.text : dataStatus.mnist);

  async function start() {
    if (!ready) return;
    setTooBig(null);
    stop.current = false;
    controls.current = null;
    setRunning(true);
    setProgress(null);
    try {
      const chosen = await chooseBackend(backend);
      setBackendNote(chosen.note);
      setStatus(`Training on ${chosen.backend}…`);
      const id = await projectId(client).catch(() => 1);
      const result = await train({
        projectId: id,
        runName: `${hyper.model}-${chosen.backend}-${new Date().toISOString().slice(11, 19)}`,
        hyper,
        faults,
        mnist: data ?? undefined,
        text: text ?? undefined,
        onProgress: setProgress,
        onPending: setPrompt,
        shouldStop: () => stop.current,
        onControls: (c) => (controls.current = c),
      });
      setStatus(`Ended (${result.ended}): ${result.message}`);
    } catch (e) {
      const msg = (e as Error).message;
      if (e instanceof ModelTooBigError) {
        // Said before allocation when the estimate shows it: no session was started.
        setTooBig(msg);
        setStatus('Not started: the model is too big for this device');
      } else if (/out of memory|OOM|failed to allocate|allocation/i.test(msg)) {
        // A device that runs out anyway: while building (no session) or training (the session is marked failed).
        setTooBig(`The model ran out of device memory: ${msg}. Make it smaller or use a smaller batch.`);
        setStatus('Training failed: the model ran out of device memory');
      } else setStatus(`Training failed: ${msg}`);
    } finally {
      setPrompt(null);
      setRunning(false);
    }
  }

  const num = (k: keyof Hyperparameters) => (e: React.ChangeEvent<HTMLInputElement>) => setHyper({ ...hyper, [k]: Number(e.target.value) });
  const [nanText, setNanText] = useState('');
  const lrSpike = (e: React.ChangeEvent<HTMLInputElement>) => setFaults({ ...faults, lrSpikeAt: e.target.value === '' ? null : Number(e.target.value) });
  const nanSteps = (e: React.ChangeEvent<HTMLInputElement>) => {
    setNanText(e.target.value);
    setFaults({ ...faults, nanAt: e.target.value.split(/[,\s]+/).filter(Boolean).map(Number).filter(Number.isInteger) });
  };

  return (
    <div>
      <h1>Trainer</h1>
      <div className="grid">
        <section className="card form">
          <h2>Model and data</h2>
          <label>
            model
            <select value={hyper.model} onChange={(e) => {
                setHyper(DEFAULTS[e.target.value as Hyperparameters['model']]);
                setStatus(null);
              }} disabled={running} data-testid="model">
              <option value="mlp">MLP on MNIST</option>
              <option value="cnn">CNN on MNIST</option>
              <option value="minigpt">MiniGPT on Moby Dick</option>
            </select>
          </label>
          <label>
            backend
            <select value={backend} onChange={(e) => setBackend(e.target.value as Backend)} disabled={running} data-testid="backend">
              <option value="webgpu">WebGPU</option>
              <option value="webgl">WebGL</option>
              <option value="cpu">CPU</option>
            </select>
          </label>
          <label>
            learning rate <input type="number" step="0.0001" value={hyper.learningRate} onChange={num('learningRate')} disabled={running} />
          </label>
          <label>
            batch size <input type="number" value={hyper.batchSize} onChange={num('batchSize')} disabled={running} data-testid="batch-size" />
          </label>
          <label>
            steps <input type="number" value={hyper.steps} onChange={num('steps')} disabled={running} data-testid="steps" />
          </label>
          <label>
            flush every <input type="number" value={hyper.flushEvery} onChange={num('flushEvery')} disabled={running} data-testid="flush-every" />
          </label>
          <label>
            {hyper.model === 'minigpt' ? 'model size (embedding width)' : 'hidden units'}{' '}
            <input type="number" value={hyper.hidden} onChange={num('hidden')} disabled={running} data-testid="model-size" />
          </label>
          {hyper.model === 'minigpt' && (
            <>
              <label>
                transformer blocks <input type="number" min={1} value={hyper.layers} onChange={num('layers')} disabled={running} />
              </label>
              <label>
                context (characters) <input type="number" min={2} value={hyper.context} onChange={num('context')} disabled={running} data-testid="context" />
              </label>
            </>
          )}
        </section>
        <section className="card form">
          <h2>Plant a fault</h2>
          <label>
            learning rate x100 at step <input type="number" value={faults.lrSpikeAt ?? ''} placeholder="off" onChange={lrSpike} disabled={running} data-testid="lr-spike-at" />
          </label>
          <label>
            NaN loss at steps <input value={nanText} placeholder="e.g. 25, 45" onChange={nanSteps} disabled={running} data-testid="nan-at" />
          </label>
          <label className="check">
            <input type="checkbox" checked={faults.deadRelu && hyper.model !== 'minigpt'} onChange={(e) => setFaults({ ...faults, deadRelu: e.target.checked })} disabled={running || hyper.model === 'minigpt'} /> dead-ReLU
            initialisation{hyper.model === 'minigpt' && <span className="muted"> (MLP and CNN)</span>}
          </label>
          <label className="check">
            <input type="checkbox" checked={faults.leak} onChange={(e) => setFaults({ ...faults, leak: e.target.checked })} disabled={running} /> leak a tensor every step
          </label>
          <div className="actions">
            {!running ? (
              <button className="button primary" onClick={start} disabled={!ready} data-testid="start">
                Start training
              </button>
            ) : (
              <>
                <button
                  className="button"
                  data-testid="pause"
                  disabled={!controls.current}
                  title="Pauses the session on the server: every dashboard shows it paused, and training holds until resumed"
                  onClick={() => void (progress?.paused ? controls.current?.resume() : controls.current?.pause())}
                >
                  {progress?.paused ? 'Resume' : 'Pause'}
                </button>
                <button
                  className="button danger"
                  onClick={() => {
                    stop.current = true;
                    // A held loop does not poll: stop the session itself.
                    if (progress?.paused) void controls.current?.stop();
                  }}
                >
                  Stop
                </button>
              </>
            )}
          </div>
          <p data-testid="trainer-status">{status}</p>
          {backendNote && <p className="warning" data-testid="backend-note">{backendNote}</p>}
          {tooBig && (
            <div className="alert" role="alert" data-testid="too-big">
              <strong>Model too big.</strong> {tooBig}
            </div>
          )}
          {progress && (
            <p className="muted" data-testid="progress">
              step {progress.step}/{hyper.steps} · loss {progress.lastLoss?.toFixed(4) ?? '–'}
              {progress.paused && ' · paused'}
            </p>
          )}
          {progress && !progress.connected && (
            <p className="warning" data-testid="offline">
              The server is unreachable: training goes on, and {progress.unsent} record{progress.unsent === 1 ? '' : 's'} wait in the outbox (kept across a reload) until it is back.
            </p>
          )}
        </section>
      </div>
      {progress?.sessionId != null && <SessionPage key={progress.sessionId} id={progress.sessionId} embedded />}
      {prompt && (
        <PendingDialog
          issues={prompt.issues}
          deadline={prompt.deadline}
          onResume={() => {
            setPrompt(null);
            void prompt.resume();
          }}
          onStop={() => {
            setPrompt(null);
            void prompt.stop();
          }}
          fix={{
            remedies: prompt.remedies,
            onApply: () => {
              setPrompt(null);
              void prompt.resume(prompt.remedies);
            },
          }}
        />
      )}
    </div>
  );
}
