/** What the observer can learn about where it runs, without importing Node modules in a browser. */

type NodeOs = { totalmem(): number; freemem(): number; cpus(): unknown[]; hostname(): string; platform(): string };

interface NodeProcess {
  versions: { node?: string };
  memoryUsage(): { rss: number; heapUsed: number; heapTotal: number };
  cpuUsage(previous?: { user: number; system: number }): { user: number; system: number };
}

/** The Node process, or undefined in a browser. */
export const nodeProcess: NodeProcess | undefined = (() => {
  const p = (globalThis as { process?: NodeProcess }).process;
  return p?.versions?.node ? p : undefined;
})();

let osModule: NodeOs | undefined;

/** Loads `node:os` in Node (once); a no-op in a browser. */
export async function loadNodeOs(): Promise<NodeOs | undefined> {
  if (!nodeProcess) return undefined;
  osModule ??= (await import(/* @vite-ignore */ 'node:' + 'os')) as NodeOs;
  return osModule;
}

export const nodeOs = (): NodeOs | undefined => osModule;

interface BrowserNavigator {
  userAgent?: string;
  hardwareConcurrency?: number;
  deviceMemory?: number;
  gpu?: { requestAdapter(): Promise<{ info?: Record<string, string>; requestAdapterInfo?: () => Promise<Record<string, string>> } | null> };
}

export const browserNavigator = (): BrowserNavigator | undefined =>
  nodeProcess ? undefined : (globalThis as { navigator?: BrowserNavigator }).navigator;

/** The WebGPU adapter's vendor/architecture/device, when the page has WebGPU. */
export async function webgpuAdapterInfo(): Promise<Record<string, string> | null> {
  const gpu = browserNavigator()?.gpu;
  if (!gpu) return null;
  try {
    const adapter = await gpu.requestAdapter();
    if (!adapter) return null;
    const info = adapter.info ?? (await adapter.requestAdapterInfo?.());
    if (!info) return null;
    const { vendor, architecture, device, description } = info;
    return Object.fromEntries(Object.entries({ vendor, architecture, device, description }).filter(([, v]) => v)) as Record<string, string>;
  } catch {
    return null;
  }
}
