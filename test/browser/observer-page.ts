/**
 * A page that trains a small MLP on real MNIST digits with the Observer, in Chromium, on the
 * backend named in `?backend=` (webgpu by default). It plants a NaN in the reported loss at
 * two steps: the first pause is resumed, the second stopped. The outcome lands in
 * `window.__result` for the test.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-webgpu';
import { Observer, type PendingPrompt } from '../../observer/index.ts';

declare global {
  interface Window {
    __result?: Record<string, unknown>;
  }
}

const log = (s: string) => (document.getElementById('log')!.textContent += `\n${s}`);

async function main() {
  const params = new URLSearchParams(location.search);
  const wanted = params.get('backend') ?? 'webgpu';
  const ok = await tf.setBackend(wanted);
  await tf.ready();
  log(`backend ${tf.getBackend()} (asked ${wanted}, ok ${ok})`);
  const bytes = new Uint8Array(await (await fetch('./mnist-sample.bin')).arrayBuffer());
  const n = bytes.length / 785;
  const labels = Array.from({ length: n }, (_, i) => bytes[i * 785]!);
  const pixels = new Float32Array(n * 784);
  for (let i = 0; i < n; i++) for (let p = 0; p < 784; p++) pixels[i * 784 + p] = bytes[i * 785 + 1 + p]! / 255;
  const xs = tf.tensor2d(pixels, [n, 784]);
  const ys = tf.oneHot(tf.tensor1d(labels, 'int32'), 10);

  const prompts: { issues: string[]; stepIndex: number | null }[] = [];
  const obs = await Observer.create({
    projectId: 1,
    runName: `browser-${tf.getBackend()}`,
    config: { serverUrl: location.origin, trackConsoleLogs: true, apiKey: params.get('apiKey') },
    onPending: (p: PendingPrompt) => {
      prompts.push({ issues: p.issues.map((i) => i.title), stepIndex: p.stepIndex });
      void (prompts.length === 1 ? p.resume() : p.stop());
    },
  });
  const model = tf.sequential();
  model.add(tf.layers.dense({ inputShape: [784], units: 32, activation: 'relu', name: 'hidden' }));
  model.add(tf.layers.dense({ units: 10, activation: 'softmax', name: 'out' }));
  model.compile({ optimizer: tf.train.sgd(0.1), loss: 'categoricalCrossentropy' });
  obs.registerModel(model, { probe: { x: xs.slice([0, 0], [16, 784]), y: ys.slice([0, 0], [16, 10]) } });
  const optimizer = tf.train.sgd(0.1);
  let error: string | null = null;
  const losses: number[] = [];
  try {
    for (let step = 0; step < 60; step++) {
      const loss = optimizer.minimize(() => tf.metrics.categoricalCrossentropy(ys, model.apply(xs) as tf.Tensor).mean() as tf.Scalar, true)!;
      const reported = step === 9 || step === 29 ? loss.mul(Number.NaN) : loss;
      obs.step(step, reported, { batchSize: n });
      tf.dispose([loss, reported]);
      if ((step + 1) % 5 === 0) {
        const r = await obs.flush();
        losses.push(r.loss!.train_mean as number);
        log(`flush ${r.step_index} loss ${r.loss!.train_mean}`);
      }
    }
  } catch (e) {
    error = (e as Error).name;
  }
  await obs.close();
  window.__result = { backend: tf.getBackend(), prompts, error, losses, sessionId: obs.sessionId };
  log('done');
}

main().catch((e) => {
  window.__result = { fatal: String(e), stack: (e as Error).stack };
});
