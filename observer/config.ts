/**
 * Every setting of the seed's ObserverConfig (§3), camelCase, with the same defaults and
 * meaning, plus what a TypeScript client needs (server URL, outbox bound, verdict wait).
 */
export interface ObserverConfig {
  /** Measure kernels on the chosen steps (`profileStep`). @default true */
  trackProfiler: boolean;
  /** tf.memory(), JS heap, process memory. @default true */
  trackMemory: boolean;
  /** Samples and tokens per second. @default true */
  trackThroughput: boolean;
  /** Loss statistics per flush. @default true */
  trackLoss: boolean;
  /** Capture console.log/info/debug while open. @default true */
  trackConsoleLogs: boolean;
  /** Capture console.warn/error, uncaught errors and unhandled rejections while open. @default true */
  trackErrorLogs: boolean;
  /** Send hyperparameters with the model. @default true */
  trackHyperparameters: boolean;
  /** Build the layer graph (nodes, edges, sequential path, dimension flow). @default true */
  trackLayerGraph: boolean;
  /** Backend, cores, device memory, CPU/RAM use (Node). @default true */
  trackSystemResources: boolean;
  /** The step to profile (null: none besides `profileEveryNSteps`). @default 0 */
  profileAtStep: number | null;
  /** Profile every N steps as well. @default null */
  profileEveryNSteps: number | null;
  /** Record kernel input/output shapes in the profile. @default true */
  profilerRecordShapes: boolean;
  /** Record bytes allocated by the profiled step. @default true */
  profilerProfileMemory: boolean;
  /** Call stacks of kernels: not available in tfjs; accepted, warns once. @default false */
  profilerWithStack: boolean;
  /** How many kernels to report, slowest first. @default 20 */
  profilerTopNOps: number;
  /** Group kernels by call stack depth: not available in tfjs; accepted, warns once. @default 0 */
  profilerGroupByStackN: number;
  /** Stacks to report: not available in tfjs; accepted. @default 20 */
  profilerTopNStacks: number;
  /** Layer efficiency, marginal loss improvement, compute cost. @default true */
  trackSustainability: boolean;
  /**
   * Watch the losses for NaN or Infinity by reading the loss buffer already on the device,
   * asynchronously and one read at a time (the step never waits for it), and make `step()` return true once one was seen, so the
   * loop flushes at once and the server can pause training a step after the loss broke
   * instead of at the next scheduled flush. Off: losses are read only at flush. @default true
   */
  flushOnNonFinite: boolean;
  /** Per-layer activation/gradient/weight statistics. @default true */
  trackLayerHealth: boolean;
  /** Values below this count as zero for sparsity and dead units. @default 1e-6 */
  layerHealthZeroThreshold: number;
  /**
   * The most probe samples layer health uses (the first ones). Each measurement is a forward
   * and backward pass over them: 8 samples cost about a sixth of a 64-sample training step,
   * and a layer is called dead only when 90% of its units stay inactive over all of them.
   * @default 8
   */
  layerHealthProbeSize: number;
  /**
   * Measure per-layer health every N training steps (dispatched in `step()`, read at the next
   * flush); null measures once per flush.
   */
  layerHealthEveryNSteps: number | null;
  /** Energy and CO2 estimates. @default true */
  trackCarbonEmissions: boolean;
  /** 'online' needs live grid data, which a browser cannot fetch here: it falls back to 'offline' and warns once. @default 'online' */
  carbonTrackerMode: 'online' | 'offline';
  /** ISO 3166-1 alpha-3 country for grid carbon intensity. @default 'IRL' */
  carbonCountryIso: string;
  /** Power the device draws while training, watts, for the carbon estimate; null assumes a figure per backend (see carbon-intensity.ts). @default null */
  carbonDeviceWatts: number | null;
  /** Seconds to wait for a decision while the session is pending, then checkpoint and stop. @default 39 */
  pendingTimeout: number;
  /**
   * What happens when nobody decides within `pendingTimeout`: `'stop'` saves a checkpoint, stops
   * the session and throws `PendingTimeoutError` (the seed's behaviour); `'remedy'` lets an
   * unattended run resume with the top issue's remedies instead (chosen by `observer:timeout`),
   * and stops as `'stop'` does when no issue proposes any. @default 'stop'
   */
  onPendingTimeout: 'stop' | 'remedy';
  /**
   * Keep on the device a snapshot of the weights and the optimizer's state at each flush the
   * server judged healthy (the last 2), and one of the state the run started with (taken by
   * `registerModel`; a rollback to step -1 restores it when a fault came with the first steps),
   * so a `rollback` or `skip_batch` remedy can restore one. A snapshot is a clone that shares
   * the variables' buffers (no copy, no readback when taken): it costs up to one extra copy of
   * the weights and optimizer slots per snapshot kept, once the optimizer has replaced them, so
   * at most 3 copies in all (the start's holds no optimizer slots in a new run). `false`: none
   * kept, and those remedies are reported as not applied. @default true
   */
  snapshots: boolean;
  /**
   * The lowest level of the observer's own messages printed to the console (they are all
   * warnings: a refused key, a lost verdict, a remedy not applied...); `'error'` keeps the
   * console quiet. They are sent to the server's session log whatever the level. @default 'info'
   */
  logLevel: 'debug' | 'info' | 'warning' | 'error';
  /** Where the Observer server runs. @default 'http://127.0.0.1:8000' */
  serverUrl: string;
  /**
   * The API key of a server that requires one (`AUTH=required`): a `write` key of the
   * project, sent in `connection_init` on the observer's one WebSocket. A refused key closes
   * the socket with 4403 and is said in a warning.
   * @default null
   * @example observe(model, { projectId: 1, config: { serverUrl: 'https://observer.lab', apiKey: 'obs_…' } })
   */
  apiKey: string | null;
  /** Records kept while the server is unreachable; past it the oldest are dropped and counted. @default 10000 */
  outboxLimit: number;
  /** Seconds to wait for the server's verdict on a flush before training goes on without it. @default 10 */
  verdictTimeout: number;
  /**
   * The largest message the observer sends, in bytes: the JSON of one graphql-ws message as it
   * goes on the wire. Steps and log lines are batched under it; a log line that cannot fit
   * alone is cut, a step drops its heaviest channels (profiler, layer health...), and what
   * still cannot fit is dropped and counted, each said in a warning. Keep it under the
   * server's `MAX_BODY_BYTES` (4 MiB unless set); when the server closes the socket for a
   * message too big (1009), the observer halves it, down to {@link MIN_MESSAGE_BYTES}.
   * @default 1048576 (1 MiB)
   */
  maxMessageBytes: number;
}

/** The smallest `maxMessageBytes`: a step reduced to its loss, or a cut log line, fits well under it. */
export const MIN_MESSAGE_BYTES = 4096;

export const defaultObserverConfig: ObserverConfig = {
  trackProfiler: true,
  trackMemory: true,
  trackThroughput: true,
  trackLoss: true,
  trackConsoleLogs: true,
  trackErrorLogs: true,
  trackHyperparameters: true,
  trackLayerGraph: true,
  trackSystemResources: true,
  profileAtStep: 0,
  profileEveryNSteps: null,
  profilerRecordShapes: true,
  profilerProfileMemory: true,
  profilerWithStack: false,
  profilerTopNOps: 20,
  profilerGroupByStackN: 0,
  profilerTopNStacks: 20,
  trackSustainability: true,
  trackLayerHealth: true,
  layerHealthZeroThreshold: 1e-6,
  layerHealthProbeSize: 8,
  layerHealthEveryNSteps: null,
  flushOnNonFinite: true,
  trackCarbonEmissions: true,
  carbonTrackerMode: 'online',
  carbonCountryIso: 'IRL',
  carbonDeviceWatts: null,
  pendingTimeout: 39,
  onPendingTimeout: 'stop',
  snapshots: true,
  logLevel: 'info',
  serverUrl: 'http://127.0.0.1:8000',
  apiKey: null,
  outboxLimit: 10_000,
  verdictTimeout: 10,
  maxMessageBytes: 1024 * 1024,
};

/** Settings that cannot apply in tfjs: accepted, and each warns once when set. */
export function unsupportedSettings(c: ObserverConfig): string[] {
  const out: string[] = [];
  if (c.profilerWithStack) out.push('profilerWithStack: tfjs kernels carry no call stacks; profiles list kernels without them');
  if (c.profilerGroupByStackN > 0) out.push('profilerGroupByStackN: tfjs kernels carry no call stacks; kernels are grouped by name');
  if (c.trackCarbonEmissions && c.carbonTrackerMode === 'online')
    out.push("carbonTrackerMode 'online': live grid data cannot be fetched; using the shipped country table (offline)");
  return out;
}

/** The full config from a partial one, checked. @throws TypeError naming a bad value */
export function resolveConfig(partial: Partial<ObserverConfig> = {}): ObserverConfig {
  const c = { ...defaultObserverConfig, ...Object.fromEntries(Object.entries(partial).filter(([, v]) => v !== undefined)) } as ObserverConfig;
  const positive = (k: keyof ObserverConfig) => {
    const v = c[k];
    if (typeof v !== 'number' || !(v > 0)) throw new TypeError(`ObserverConfig.${k} must be a positive number, got ${String(v)}`);
  };
  positive('pendingTimeout');
  positive('outboxLimit');
  positive('verdictTimeout');
  positive('profilerTopNOps');
  if (!Number.isInteger(c.maxMessageBytes) || c.maxMessageBytes < MIN_MESSAGE_BYTES)
    throw new TypeError(`ObserverConfig.maxMessageBytes must be an integer of at least ${MIN_MESSAGE_BYTES}, got ${String(c.maxMessageBytes)}`);
  if (c.profileEveryNSteps !== null) positive('profileEveryNSteps');
  if (c.onPendingTimeout !== 'stop' && c.onPendingTimeout !== 'remedy') throw new TypeError(`ObserverConfig.onPendingTimeout must be 'stop' or 'remedy', got ${String(c.onPendingTimeout)}`);
  if (!/^[A-Z]{3}$/.test(c.carbonCountryIso)) throw new TypeError(`ObserverConfig.carbonCountryIso must be an ISO 3166-1 alpha-3 code, got "${c.carbonCountryIso}"`);
  return c;
}

/** The config as the seed sends it (snake_case), for the session's metadata. */
export function configAsSeed(c: ObserverConfig): Record<string, unknown> {
  return Object.fromEntries(Object.entries(c).map(([k, v]) => [k.replace(/[A-Z]/g, (m) => `_${m.toLowerCase()}`), v]));
}
