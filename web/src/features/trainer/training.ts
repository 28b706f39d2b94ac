/**
 * The trainer's training loop: tfjs and the Observer, free of React. The page calls `train`
 * and gets progress through callbacks; the backend, the memory check and the tasks live in
 * their own modules.
 */
import * as tf from '@tensorflow/tfjs';
import { Observer, PendingTimeoutError, SessionStoppedError, type PendingPrompt } from '@observer/tfjs';
import { storedApiKey } from '../../graphql/api-key.ts';
import { backendLimits } from './backend.ts';
import { memoryCheck, ModelTooBigError } from './memory.ts';
import { runObserved, runObserverOf } from './observed-run.ts';
import { buildTask, type Task, type TaskInputs } from './tasks.ts';

export interface Progress {
  step: number;
  lastLoss: number | null;
  unsent: number;
  connected: boolean;
  paused: boolean;
  sessionId: number | null;
}

export interface TrainOptions extends TaskInputs {
  projectId: number;
  runName: string;
  onProgress: (p: Progress) => void;
  onPending: (p: PendingPrompt) => void;
  /** Polled between steps: true asks the loop to stop. */
  shouldStop: () => boolean;
  /** Receives the session's controls once it exists: pause and resume go through the server, so every dashboard sees them. */
  onControls?: (c: SessionControls) => void;
}

/** What the page's buttons call while training runs. */
export interface SessionControls {
  pause(): Promise<void>;
  resume(): Promise<void>;
  stop(): Promise<void>;
}

/** How a run ended: `finished`, stopped from a dashboard, timed out pending, or cancelled from the page. */
export interface TrainResult {
  ended: 'finished' | 'stopped' | 'timeout' | 'cancelled';
  sessionId: number | null;
  message: string;
}

/**
 * Trains with the Observer; resolves with how it ended. Yields to the browser every step.
 * Nothing is left behind on any path out: the model and tensors are disposed, the observer
 * closed (console restored, socket closed), and a session that exists ends stopped,
 * completed or, when training throws, `failed` with a log line saying why.
 * @throws ModelTooBigError before anything is allocated when the model cannot fit (no session starts)
 * @throws Error when the model cannot be built (no session starts) or training fails (the session is marked failed)
 */
export async function train(o: TrainOptions): Promise<TrainResult> {
  const tooBig = memoryCheck(o.hyper, o.text?.vocabulary.length ?? 0, await backendLimits());
  if (tooBig) throw new ModelTooBigError(tooBig);
  const optimizer = tf.train.adam(o.hyper.learningRate);
  try {
    const task = buildTask(o, optimizer);
    try {
      const progress = { step: 0, lastLoss: null as number | null };
      const obs: Observer = await Observer.create({
        projectId: o.projectId,
        runName: o.runName,
        config: { serverUrl: location.origin, carbonTrackerMode: 'offline', apiKey: storedApiKey() },
        onPending: o.onPending,
        onPaused: (held) => o.onProgress({ ...progress, unsent: obs.unsent, connected: obs.connected, paused: held, sessionId: obs.sessionId }),
        metadata: { trainer: 'web', faults: { ...o.faults } },
      });
      return await runObserved(runObserverOf(obs), () => trainObserved(o, obs, task, optimizer, progress));
    } finally {
      task.dispose();
    }
  } finally {
    optimizer.dispose();
  }
}

/** The training loop, with the session open; {@link train} owns everything it uses. */
async function trainObserved(o: TrainOptions, obs: Observer, task: Task, optimizer: tf.Optimizer, progress: { step: number; lastLoss: number | null }): Promise<TrainResult> {
  const { hyper: h, faults } = o;
  obs.logHyperparameters({ ...h, optimizer: 'adam', dataset: task.dataset, faults: { ...faults } });
  obs.registerModel(task.observed, task.probe ? { probe: task.probe } : {});
  o.onControls?.({ pause: () => obs.pause(), resume: () => obs.resume(), stop: () => obs.decide('stop') });
  const leaked: tf.Tensor[] = [];
  try {
    for (let step = 0; step < h.steps; step++) {
      if (o.shouldStop()) {
        await obs.decide('stop').catch(() => {});
        return { ended: 'cancelled', sessionId: obs.sessionId, message: `stopped from the page at step ${step}` };
      }
      if (faults.lrSpikeAt !== null && step === faults.lrSpikeAt) (optimizer as unknown as { learningRate: number }).learningRate = h.learningRate * 100;
      let loss: tf.Scalar;
      if (obs.shouldProfile(step)) loss = await task.profile(obs, step);
      else {
        const b = task.batch(step);
        loss = optimizer.minimize(b.loss, true, task.variables)!;
        tf.dispose(b.inputs);
      }
      const reported = faults.nanAt.includes(step) ? loss.mul(Number.NaN) : loss;
      obs.step(step, reported, { batchSize: h.batchSize, ...(h.model === 'minigpt' ? { seqLength: h.context } : {}) });
      if (faults.leak) leaked.push(tf.keep(task.leakable(step)));
      tf.dispose([loss, reported]);
      // Yield to the page; the observer's NaN watch resolves meanwhile, and a broken loss is flushed at once.
      await tf.nextFrame();
      if (obs.flushDue || (step + 1) % h.flushEvery === 0 || step === h.steps - 1) {
        const val = task.validation();
        const valLoss = (await val.data())[0]!;
        val.dispose();
        const record = await obs.flush({ valMetrics: { val_loss: valLoss } });
        progress.lastLoss = (record.loss?.train_mean as number) ?? null;
      }
      progress.step = step + 1;
      o.onProgress({ ...progress, unsent: obs.unsent, connected: obs.connected, paused: false, sessionId: obs.sessionId });
      // Paused from this page or any dashboard: hold here until resumed (or stopped).
      await obs.holdIfPaused();
    }
    await obs.decide('complete').catch(() => {});
    return { ended: 'finished', sessionId: obs.sessionId, message: `trained ${h.steps} steps` };
  } catch (e) {
    // Outcomes, not failures: the session has already ended on the server.
    if (e instanceof SessionStoppedError) return { ended: 'stopped', sessionId: obs.sessionId, message: e.message };
    if (e instanceof PendingTimeoutError) return { ended: 'timeout', sessionId: obs.sessionId, message: e.message };
    throw e;
  } finally {
    tf.dispose(leaked);
  }
}
