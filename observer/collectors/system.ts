import * as tf from '@tensorflow/tfjs';
import type { JsonObject } from '../record.ts';
import { browserNavigator, nodeOs, nodeProcess } from './environment.ts';

/**
 * Backend, cores, device memory, user agent; in Node also CPU and RAM use. CPU use is the
 * process's CPU time over the wall time since the previous call, per core.
 */
export class SystemCollector {
  private last = { wall: performance.now(), cpu: nodeProcess?.cpuUsage() };

  constructor(private readonly adapterInfo: Record<string, string> | null) {}

  collect(): JsonObject {
    const out: JsonObject = { backend: tf.getBackend() ?? 'none', tfjs_version: tf.version.tfjs };
    if (this.adapterInfo) out.webgpu_adapter = this.adapterInfo;
    const nav = browserNavigator();
    if (nav) {
      if (nav.userAgent) out.user_agent = nav.userAgent;
      if (nav.hardwareConcurrency) out.cores = nav.hardwareConcurrency;
      if (nav.deviceMemory) out.device_memory_gb = nav.deviceMemory;
    }
    const os = nodeOs();
    if (nodeProcess && os) {
      const cores = os.cpus().length;
      const now = performance.now();
      const cpu = nodeProcess.cpuUsage();
      const prev = this.last.cpu!;
      const usedMs = (cpu.user - prev.user + cpu.system - prev.system) / 1000;
      const wallMs = now - this.last.wall;
      this.last = { wall: now, cpu };
      out.cores = cores;
      out.platform = os.platform();
      if (wallMs > 0) out.cpu_percent = Math.min(100, (100 * usedMs) / wallMs / cores);
      out.ram_percent = (100 * (os.totalmem() - os.freemem())) / os.totalmem();
    }
    return out;
  }
}
