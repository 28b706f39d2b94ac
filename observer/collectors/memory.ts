import * as tf from '@tensorflow/tfjs';
import type { JsonObject } from '../record.ts';
import { nodeOs, nodeProcess } from './environment.ts';

const MB = 1024 * 1024;

/**
 * tf.memory() (tensors and bytes, GPU bytes where the backend reports them), the JS heap and,
 * in Node, the process. Reads counters only: no device sync.
 */
export function collectMemory(): JsonObject {
  const m = tf.memory() as tf.MemoryInfo & { numBytesInGPU?: number; numBytesInGPUAllocated?: number };
  const out: JsonObject = { num_tensors: m.numTensors, num_bytes: m.numBytes, num_data_buffers: m.numDataBuffers };
  if (m.numBytesInGPU !== undefined) out.num_bytes_gpu = m.numBytesInGPU;
  if (m.numBytesInGPUAllocated !== undefined) out.num_bytes_gpu_allocated = m.numBytesInGPUAllocated;
  if (m.unreliable) out.unreliable = true;
  if (nodeProcess) {
    const u = nodeProcess.memoryUsage();
    out.process_rss_mb = u.rss / MB;
    out.js_heap_used_mb = u.heapUsed / MB;
    const os = nodeOs();
    if (os) out.system_total_mb = os.totalmem() / MB;
  } else {
    const heap = (globalThis as { performance?: { memory?: { usedJSHeapSize: number; jsHeapSizeLimit: number } } }).performance?.memory;
    if (heap) {
      out.js_heap_used_mb = heap.usedJSHeapSize / MB;
      out.js_heap_limit_mb = heap.jsHeapSizeLimit / MB;
    }
  }
  return out;
}
