/**
 * `?server=URL&run=NAME&flushes=N`: trains a tiny model with an Observer pointed at `server`
 * and flushes N times, then leaves the page as it is (no close): a reload must not lose what
 * never reached the server. `window.__result` says how many records wait.
 */
import * as tf from '@tensorflow/tfjs';
import { Observer } from '../../observer/index.ts';

declare global {
  interface Window {
    __result?: Record<string, unknown>;
    __observer?: Observer;
  }
}

async function main() {
  const q = new URLSearchParams(location.search);
  await tf.setBackend('cpu');
  const obs = await Observer.create({ projectId: 1, runName: q.get('run')!, config: { serverUrl: q.get('server')!, verdictTimeout: 1, trackConsoleLogs: false } });
  window.__observer = obs;
  const w = tf.variable(tf.randomNormal([4, 1]));
  const x = tf.randomNormal([8, 4]);
  const opt = tf.train.sgd(0.01);
  const flushes = Number(q.get('flushes') ?? 3);
  for (let step = 0; step < flushes * 2; step++) {
    const loss = opt.minimize(() => x.matMul(w).square().mean() as tf.Scalar, true)!;
    obs.step(step, loss, { batchSize: 8 });
    loss.dispose();
    if (step % 2 === 1) await obs.flush();
  }
  window.__result = { unsent: obs.unsent, sessionId: obs.sessionId };
}

main().catch((e) => (window.__result = { fatal: String(e) }));
