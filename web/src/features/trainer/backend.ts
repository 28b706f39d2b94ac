/**
 * The tfjs backend the trainer runs on: the one asked for if it starts, else the next of
 * webgpu → webgl → cpu with the reason, and what the chosen one can hold.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-webgpu';
import type { MemoryLimits } from './memory.ts';

export type Backend = 'webgpu' | 'webgl' | 'cpu';

/**
 * Picks the backend: the one asked for if it initialises, else the next of webgpu → webgl →
 * cpu, with the reason it fell back.
 */
export async function chooseBackend(wanted: Backend): Promise<{ backend: string; note: string | null }> {
  const order: Backend[] = ['webgpu', 'webgl', 'cpu'];
  const notes: string[] = [];
  for (const b of order.slice(order.indexOf(wanted))) {
    if (b === 'webgpu' && !('gpu' in navigator)) {
      notes.push('WebGPU is not available in this browser');
      continue;
    }
    if (b === 'webgpu') {
      const adapter = await (navigator as unknown as { gpu: { requestAdapter(): Promise<unknown> } }).gpu.requestAdapter().catch(() => null);
      if (!adapter) {
        notes.push('no WebGPU adapter was found (no GPU, or WebGPU disabled)');
        continue;
      }
    }
    try {
      if (await tf.setBackend(b)) {
        await tf.ready();
        return { backend: tf.getBackend(), note: notes.length ? `${notes.join('; ')}: using ${b}` : null };
      }
      notes.push(`${b} failed to initialise`);
    } catch (e) {
      notes.push(`${b} failed: ${(e as Error).message}`);
    }
  }
  throw new Error(`no tfjs backend could start (${notes.join('; ')})`);
}

/** What the current backend can hold (after {@link chooseBackend}). */
export async function backendLimits(): Promise<MemoryLimits> {
  const deviceGiB = (navigator as unknown as { deviceMemory?: number }).deviceMemory ?? 4;
  const budgetBytes = Math.min(deviceGiB, 8) * 2 ** 30 * 0.5;
  const backend = tf.getBackend();
  if (backend === 'webgpu') {
    const device = (tf.backend() as unknown as { device?: { limits: { maxStorageBufferBindingSize: number; maxBufferSize: number } } }).device;
    const l = device?.limits;
    return { maxTensorBytes: l ? Math.min(l.maxStorageBufferBindingSize, l.maxBufferSize) : 128 * 2 ** 20, budgetBytes };
  }
  if (backend === 'webgl') {
    const side = tf.env().getNumber('WEBGL_MAX_TEXTURE_SIZE');
    return { maxTensorBytes: side * side * 4 * 4, budgetBytes };
  }
  // The cpu backend keeps each tensor in one typed array.
  return { maxTensorBytes: 2 ** 31 - 1, budgetBytes };
}
