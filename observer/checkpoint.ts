import * as tf from '@tensorflow/tfjs';
import type { ObservableModel } from './collectors/architecture.ts';
import { isLayersModel } from './collectors/architecture.ts';
import { nodeProcess } from './collectors/environment.ts';

/**
 * Saves the model so a run stopped by a pending timeout can be resumed later: to IndexedDB in
 * a browser, to `<dir>/<name>/` (model.json + weights.bin, tfjs's layout) in Node.
 * @returns where it went
 */
export async function saveCheckpoint(model: ObservableModel, name: string, dir = 'observer_checkpoints'): Promise<string> {
  const safeName = name.replace(/[^\w.-]+/g, '_');
  if (!nodeProcess) {
    const url = `indexeddb://observer-${safeName}`;
    if (isLayersModel(model)) await model.save(url);
    else throw new Error('checkpoints of custom models are saved in Node only');
    return url;
  }
  const fs = (await import(/* @vite-ignore */ 'node:' + 'fs/promises')) as typeof import('node:fs/promises');
  const path = (await import(/* @vite-ignore */ 'node:' + 'path')) as typeof import('node:path');
  const target = path.resolve(dir, `${safeName}-${new Date().toISOString().replace(/[:.]/g, '-')}`);
  await fs.mkdir(target, { recursive: true });
  if (isLayersModel(model)) {
    await model.save(
      tf.io.withSaveHandler(async (artifacts) => {
        const { weightData, ...rest } = artifacts;
        const bytes = weightData instanceof ArrayBuffer ? new Uint8Array(weightData) : new Uint8Array(await new Blob(weightData as ArrayBuffer[]).arrayBuffer());
        await fs.writeFile(path.join(target, 'weights.bin'), bytes);
        await fs.writeFile(
          path.join(target, 'model.json'),
          JSON.stringify({ ...rest, weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs }] }),
        );
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON', weightDataBytes: bytes.byteLength } };
      }),
    );
  } else {
    const weights: Record<string, { shape: number[]; values: number[] }[]> = {};
    for (const [layer, l] of Object.entries(model.layers))
      weights[layer] = await Promise.all(l.variables.map(async (v) => ({ shape: v.shape, values: Array.from(await v.data()) })));
    await fs.writeFile(path.join(target, 'weights.json'), JSON.stringify(weights));
  }
  return target;
}
