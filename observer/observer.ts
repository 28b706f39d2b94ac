import * as tf from '@tensorflow/tfjs';
import { ObserverCallback } from './callbacks.ts';
import { saveCheckpoint } from './checkpoint.ts';
import { describeModel, type ObservableModel } from './collectors/architecture.ts';
import { loadNodeOs, nodeProcess, webgpuAdapterInfo } from './collectors/environment.ts';
import { LayerHealthCollector, type ProbeBatch } from './collectors/layer-health.ts';
import { LogCapture } from './collectors/logs.ts';
import { profileFunction, profileTrainingStep, type ProfiledStep } from './collectors/profiler.ts';
import { LossCollector } from './collectors/loss.ts';
import { collectMemory } from './collectors/memory.ts';
import { SustainabilityCollector } from './collectors/sustainability.ts';
import { SystemCollector } from './collectors/system.ts';
import { ThroughputCollector } from './collectors/throughput.ts';
import { configAsSeed, resolveConfig, unsupportedSettings, type ObserverConfig } from './config.ts';
import { PendingTimeoutError, SessionStoppedError } from './errors.ts';
import type { Json, JsonObject, PendingIssue, StepRecord } from './record.ts';
import { Connection, type ConnectionHealth, type StatusEvent } from './transport/connection.ts';
import { encodeNonFinite } from './transport/encode.ts';
import { hasIndexedDb, idbStore } from './transport/idb-store.ts';
import { holdLock, recoverLeftovers } from './transport/recovery.ts';
import { Sender, type SessionSpec } from './transport/sender.ts';
import { Outbox } from './transport/outbox.ts';

/** What `onPending` receives when the server pauses training. */
export interface PendingPrompt {
  sessionId: number;
  /** The step (flush) whose diagnostics paused the session. */
  stepIndex: number | null;
  issues: PendingIssue[];
  healthScore: number | null;
  /** When the observer gives up waiting, checkpoints and stops (ms since epoch). */
  deadline: number;
  resume(): Promise<void>;
  stop(): Promise<void>;
}

/** Options of {@link Observer.create}. */
export interface ObserverOptions {
  /** The project the session belongs to (it must exist on the server). */
  projectId: number;
  /** A name for the run; the run id is `{projectId}_{runName}`. @default 'run' */
  runName?: string;
  config?: Partial<ObserverConfig>;
  /** Called when the session goes pending, with the issues that paused it. */
  onPending?: (prompt: PendingPrompt) => void;
  /** Called with true when training holds because the session was paused, false when it goes on. */
  onPaused?: (paused: boolean) => void;
  /** Extra session metadata (shown in the dashboard). */
  metadata?: JsonObject;
}

const ACTION = 'mutation($s: Int!, $a: SessionAction!) { sessionAction(sessionId: $s, action: $a) { status } }';

/** How the observer's link to the server is doing (see {@link Observer.transport}). */
export interface TransportState extends ConnectionHealth {
  /** Whether the socket is up right now. */
  connected: boolean;
  /** Records waiting for the server. */
  unsent: number;
  /** Steps sent without some channels, and log lines sent cut, to fit the message limit. */
  trimmed: { steps: number; logs: number };
  /** Items refused for good by the server or too big for any message. */
  rejected: { steps: number; logs: number };
}

/** Warnings about settings tfjs cannot honour are given once per process. */
const warnedOnce = new Set<string>();

/**
 * Watches a tfjs training run and streams it to the Observer server (seed §4-§5).
 *
 * @example
 * ```ts
 * await using obs = await Observer.create({ projectId: 1, runName: 'mlp' });
 * obs.logHyperparameters({ learningRate: 1e-3, batchSize: 64 });
 * obs.registerModel(model);
 * await model.fit(xs, ys, { epochs: 5, callbacks: obs.callbacks() });
 * ```
 */
export class Observer {
  readonly config: ObserverConfig;
  readonly runId: string;
  readonly runName: string;
  /** The server's session id, once the session exists there. */
  sessionId: number | null = null;
  /** The session's last known status. */
  status: StatusEvent['status'] = 'running';

  private readonly connection: Connection;
  private sender!: Sender;
  private readonly loss = new LossCollector();
  private readonly throughput = new ThroughputCollector();
  private system!: SystemCollector;
  private readonly logs: LogCapture;
  private hyperparameters: JsonObject = {};
  private model: ObservableModel | null = null;
  private health: LayerHealthCollector | null = null;
  private probe: ProbeBatch | null = null;
  private profile: JsonObject | null = null;
  private sustainability: SustainabilityCollector | null = null;
  private flushIndex = 0;
  private lastFlushAt = performance.now();
  private readonly records: StepRecord[] = [];
  private firstNonFinite: JsonObject | null = null;
  /** The step whose loss the watch saw non-finite, not yet flushed; the newest step seen and the newest flushed. */
  private nonFiniteAt: number | null = null;
  private lastStep = -Infinity;
  private flushedThrough = -Infinity;
  /** After an early flush for a broken loss, no more until a flush reads finite losses again. */
  private watchQuiet = false;
  /** Whether the NaN watch has a read out. */
  private watchReading = false;
  private stopWatching: (() => void) | null = null;
  private lastEvent: StatusEvent | null = null;
  /** Waiters for a status event; called with null when a step was dropped, so one waiting for that step's verdict stops. */
  private readonly waiters = new Set<(e: StatusEvent | null) => void>();
  /** Flushes the sender left out for good (too big for any message): no verdict comes for them. */
  private readonly droppedSteps = new Set<number>();
  private closed = false;

  private constructor(
    private readonly options: ObserverOptions,
    config: ObserverConfig,
  ) {
    this.config = config;
    this.runName = options.runName ?? 'run';
    this.runId = `${options.projectId}_${this.runName}`;
    this.connection = new Connection(`${config.serverUrl.replace(/^http/, 'ws').replace(/\/$/, '')}/graphql`, {
      maxMessageBytes: config.maxMessageBytes,
      warn: (msg) => this.warn(msg),
      ...(config.apiKey ? { connectionParams: { apiKey: config.apiKey } } : {}),
    });
    this.logs = new LogCapture({ console: config.trackConsoleLogs, errors: config.trackErrorLogs, maxBuffered: 5000 });
  }

  /**
   * Creates the observer and its session on the server. A server that is down does not
   * fail this: the session is created when it comes back, and records wait in the outbox.
   */
  static async create(options: ObserverOptions): Promise<Observer> {
    const obs = new Observer(options, resolveConfig(options.config));
    await loadNodeOs();
    obs.system = new SystemCollector(obs.config.trackSystemResources ? await webgpuAdapterInfo() : null);
    for (const w of unsupportedSettings(obs.config)) if (!warnedOnce.has(w)) (warnedOnce.add(w), obs.warn(w));
    obs.logs.start();
    await obs.connection.open();
    const spec: SessionSpec = { projectId: options.projectId, sessionInput: obs.sessionInput(), sessionId: null };
    const key = `${obs.runId}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;
    const store = hasIndexedDb() ? await idbStore({ key, ...spec }).catch(() => null) : null;
    obs.sender = new Sender(obs.connection, new Outbox(obs.config.outboxLimit, store), spec, store, {
      onSession: (id) => obs.onSession(id),
      warn: (msg) => obs.warn(msg),
      onDropped: (step) => obs.onStepDropped(step),
    });
    obs.connection.onChange((up) => up && obs.sender.pump());
    obs.releaseLock = await holdLock(key);
    obs.recovered = await recoverLeftovers(obs.connection, obs.config.outboxLimit, key, (msg) => obs.warn(msg));
    const session = obs.sender.ensureSession();
    session.catch((err) => obs.warn(`could not create the session: ${(err as Error).message}`));
    // Wait briefly so a reachable server gives the session an id before training starts.
    await Promise.race([session, new Promise((r) => setTimeout(r, 3000))]).catch(() => {});
    return obs;
  }

  /** Outboxes of earlier pages (a reload, a closed tab) being delivered by this observer. */
  private recovered: Sender[] = [];
  private releaseLock: () => void = () => {};

  private sessionInput(): Json {
    const system = this.system.collect();
    return encodeNonFinite({
      runId: this.runId,
      runName: this.runName,
      startedAt: new Date().toISOString(),
      device: String(system.backend ?? 'unknown'),
      config: configAsSeed(this.config),
      metadata: { client: 'observer-tfjs', ...system, ...(this.options.metadata ?? {}) },
    });
  }

  private onSession(id: number): void {
    this.sessionId = id;
    this.stopWatching = this.connection.watchStatus(
      id,
      (e) => this.onStatus(e),
      // Said once per run of failures; the watch re-subscribes until the observer closes.
      (err, streak) => streak === 0 && this.warn(`status updates failed (${err.message}); subscribing again`),
    );
  }

  private onStepDropped(stepIndex: number): void {
    this.droppedSteps.add(stepIndex);
    for (const w of [...this.waiters]) w(null);
  }

  private warn(msg: string): void {
    this.logs.write('warn', `[observer] ${msg}`);
    this.logs.push('WARNING', msg, 'console', 'observer');
  }

  /** Stores hyperparameters; they are sent with the model (seed: local only until then). */
  logHyperparameters(hp: Record<string, unknown>): void {
    if (this.config.trackHyperparameters) this.hyperparameters = { ...this.hyperparameters, ...(encodeNonFinite(hp) as JsonObject) };
  }

  /**
   * Describes the model (parameters, layers, graph) and sends it. With a `probe` batch (a few
   * dozen samples and their labels), each flush also measures per-layer health on it:
   * activations, dead units, gradient norms (one backward pass, no update), weight sparsity.
   */
  registerModel(model: ObservableModel, opts: { probe?: ProbeBatch } = {}): JsonObject {
    this.model = model;
    this.probe = opts.probe ?? null;
    this.health?.dispose();
    this.health = this.config.trackLayerHealth ? new LayerHealthCollector(model, opts.probe ?? null, this.config.layerHealthZeroThreshold, this.config.layerHealthProbeSize) : null;
    this.sustainability = this.newSustainability(model);
    const architecture = describeModel(model, this.config.trackLayerGraph);
    this.sender.push({ kind: 'model', architecture, hyperparameters: this.config.trackHyperparameters ? this.hyperparameters : null });
    return architecture;
  }

  /** Whether `step` is one to profile (`profileAtStep`, `profileEveryNSteps`). */
  shouldProfile(step: number): boolean {
    if (!this.config.trackProfiler) return false;
    if (this.config.profileAtStep === step) return true;
    const n = this.config.profileEveryNSteps;
    return n !== null && step % n === 0;
  }

  private newSustainability(model: ObservableModel | null): SustainabilityCollector {
    return new SustainabilityCollector(model, { countryIso: this.config.carbonCountryIso, deviceWatts: this.config.carbonDeviceWatts });
  }

  private get profilerOptions() {
    return { topN: this.config.profilerTopNOps, recordShapes: this.config.profilerRecordShapes, profileMemory: this.config.profilerProfileMemory };
  }

  /**
   * Runs one training step under the profiler; the profile goes out with the next flush.
   * Given a function (any step), kernels and wall time are measured. Given `{ model, x, y,
   * optimizer }`, the observer runs the step itself and also splits forward from backward
   * and times each layer's forward pass (backward per layer is estimated; see README).
   * Profiling waits for every kernel, so use it on the steps `shouldProfile` picks.
   */
  async profileStep(step: ProfiledStep): Promise<tf.Scalar>;
  async profileStep<T extends tf.TensorContainer>(step: () => T | Promise<T>): Promise<T>;
  async profileStep<T extends tf.TensorContainer>(step: ProfiledStep | (() => T | Promise<T>)): Promise<T | tf.Scalar> {
    if (typeof step === 'function') {
      const { result, profile } = await profileFunction(step, this.profilerOptions);
      this.profile = profile;
      return result;
    }
    const { loss, profile } = await profileTrainingStep(step, this.profilerOptions);
    this.profile = profile;
    return loss;
  }

  /** Profiles a forward and backward pass of the probe batch without updating (for `model.fit`, which runs its own steps). */
  async profileProbe(): Promise<void> {
    if (!this.probe?.y || !this.model || !(this.model instanceof tf.LayersModel)) return;
    const { loss, profile } = await profileTrainingStep({ model: this.model, x: this.probe.x, y: this.probe.y }, this.profilerOptions);
    loss.dispose();
    this.profile = { ...profile, measured_on: 'probe batch, no weight update' };
  }

  /**
   * Records one training step. Never waits for the device: the loss is kept there and read
   * once per flush. Returns true when a flush is due now, because a loss of an earlier step
   * was NaN or Infinity (`flushOnNonFinite`): `if (obs.step(i, loss) || i % 50 === 49) await obs.flush()`.
   */
  step(step: number, loss: tf.Tensor | number, opts: { batchSize?: number; seqLength?: number } = {}): boolean {
    if (this.config.trackLoss) this.loss.add(step, loss);
    const every = this.config.layerHealthEveryNSteps;
    if (every && step % every === 0) this.health?.measure();
    if (this.config.trackThroughput) this.throughput.add(opts.batchSize, opts.seqLength);
    this.lastStep = Math.max(this.lastStep, step);
    if (this.config.trackLoss && this.config.flushOnNonFinite && !this.watchQuiet && this.nonFiniteAt === null) this.watchFinite(step, loss);
    return this.flushDue;
  }

  /**
   * True when a flush is due now: the watch saw a NaN or Infinity loss since the last flush.
   * A loop that yields between steps (as a browser loop must) can check it after the yield,
   * so the flush covers the very step that broke.
   */
  get flushDue(): boolean {
    return this.nonFiniteAt !== null;
  }

  /**
   * Reads the losses already on the device (the loss collector's buffer: a new handle on it,
   * no copy and no kernel) without waiting, one read at a time: where a read resolves by the
   * next step (cpu, a loop that yields) every step is checked; where reads are slow (WebGL) a
   * read covers the steps that ran meanwhile, so the readbacks never pile up.
   */
  private watchFinite(step: number, loss: tf.Tensor | number): void {
    const seen = (at: number) => {
      if (at > this.flushedThrough && this.nonFiniteAt === null) this.nonFiniteAt = at;
    };
    if (typeof loss === 'number') {
      if (!Number.isFinite(loss)) seen(step);
      return;
    }
    if (this.watchReading) return;
    const peek = this.loss.peek();
    if (!peek) return;
    this.watchReading = true;
    peek.values
      .data()
      .then((v) => {
        const bad = peek.steps.findIndex((_, i) => !Number.isFinite(v[i]!));
        if (bad >= 0) seen(peek.steps[bad]!);
      })
      // A failed read (a lost context) only skips this check.
      .catch(() => undefined)
      .finally(() => {
        peek.values.dispose();
        this.watchReading = false;
      });
  }

  /**
   * Sends everything since the previous flush as one step record (seed §6), then waits for
   * the server's verdict on it: `running` returns, `pending` waits for a decision (training
   * pauses), `stop` throws {@link SessionStoppedError}, no decision within `pendingTimeout`
   * saves a checkpoint, stops the session and throws {@link PendingTimeoutError}.
   */
  async flush(opts: { valMetrics?: Record<string, number> } = {}): Promise<StepRecord> {
    const now = performance.now();
    const seconds = (now - this.lastFlushAt) / 1000;
    if (!this.config.layerHealthEveryNSteps) this.health?.measure();
    const [loss, health] = await Promise.all([this.loss.collect(opts.valMetrics), this.health?.collect() ?? null]);
    // An early flush for a broken loss happens once; the watch starts again after finite losses.
    this.watchQuiet = this.nonFiniteAt !== null || (this.watchQuiet && loss.first_non_finite_step != null);
    this.nonFiniteAt = null;
    // A read still out covers flushed steps only: what it finds is ignored.
    this.flushedThrough = this.lastStep;
    const elapsed = (performance.now() - this.lastFlushAt) / 1000;
    this.lastFlushAt = performance.now();
    const record: StepRecord = { step_index: this.flushIndex++, timestamp: new Date().toISOString(), duration_seconds: elapsed };
    if (this.config.trackLoss) record.loss = loss;
    if (this.config.trackThroughput) record.throughput = this.throughput.collect(Math.max(seconds, elapsed));
    if (this.config.trackMemory) record.memory = collectMemory();
    if (this.config.trackSystemResources) record.system = this.system.collect();
    if (health) record.layer_health = health;
    if (this.profile) {
      record.profiler = this.profile;
      this.sustainability?.notePerLayer(this.profile.per_layer as JsonObject[] | undefined);
      this.profile = null;
    }
    if (this.config.trackSustainability || this.config.trackCarbonEmissions) {
      this.sustainability ??= this.newSustainability(null);
      const samples = typeof record.throughput?.samples_processed === 'number' ? record.throughput.samples_processed : 0;
      const { sustainability, carbon } = this.sustainability.collect(samples, elapsed, loss.train_mean);
      if (this.config.trackSustainability) record.sustainability = sustainability;
      if (this.config.trackCarbonEmissions) record.carbon_emissions = carbon;
    }
    const badLayer = LayerHealthCollector.firstNonFinite(health);
    if ((loss.first_non_finite_step != null || badLayer) && !this.firstNonFinite)
      this.firstNonFinite = { step: loss.first_non_finite_step ?? null, flush: record.step_index, channel: loss.first_non_finite_step != null ? 'loss' : 'layer_health', layer: badLayer };
    const bookkeeping: JsonObject = {};
    if (this.firstNonFinite) bookkeeping.first_non_finite = this.firstNonFinite;
    const { dropped } = this.sender.outbox;
    const { rejected, trimmed } = this.sender;
    if (dropped.steps || dropped.logs) bookkeeping.dropped = { ...dropped };
    if (rejected.steps || rejected.logs) bookkeeping.rejected = { ...rejected };
    if (trimmed.steps || trimmed.logs) bookkeeping.trimmed = { ...trimmed };
    if (Object.keys(bookkeeping).length) record.observer = bookkeeping;
    this.records.push(record);
    this.queueLogs();
    this.sender.push({ kind: 'step', record });
    await this.awaitVerdict(record.step_index);
    return record;
  }

  /** Moves captured log lines to the outbox, in batches the server accepts. */
  private queueLogs(): void {
    const lines = this.logs.take();
    for (let i = 0; i < lines.length; i += 500) this.sender.push({ kind: 'logs', lines: lines.slice(i, i + 500) });
  }

  private onStatus(e: StatusEvent): void {
    this.lastEvent = e;
    this.status = e.status;
    for (const w of [...this.waiters]) w(e);
  }

  /** Resolves with the next status event that satisfies `accept`, or null after `seconds` or once `abandon()` holds (checked when a step is dropped). */
  private nextStatus(accept: (e: StatusEvent) => boolean, seconds: number, abandon: () => boolean = () => false): Promise<StatusEvent | null> {
    return new Promise((resolve) => {
      const done = (e: StatusEvent | null) => {
        clearTimeout(timer);
        this.waiters.delete(waiter);
        resolve(e);
      };
      const waiter = (e: StatusEvent | null) => (e ? accept(e) : abandon()) && done(e);
      const timer = Number.isFinite(seconds) ? setTimeout(() => done(null), seconds * 1000) : undefined;
      this.waiters.add(waiter);
    });
  }

  private async awaitVerdict(stepIndex: number): Promise<void> {
    if (this.sessionId === null || !this.connection.connected) return;
    // A state (pending, stopped...) applies whatever step it came with; `running` only about this step or later.
    const decisive = (e: StatusEvent) => e.status !== 'analyzing' && (e.status !== 'running' || (e.stepIndex ?? -1) >= stepIndex);
    const current = this.lastEvent && this.lastEvent.status !== 'running' && decisive(this.lastEvent) ? this.lastEvent : null;
    // A step too big for any message never reaches the server (the sender said so): no verdict to wait for.
    const dropped = () => this.droppedSteps.has(stepIndex);
    const verdict = current ?? (dropped() ? null : await this.nextStatus(decisive, this.config.verdictTimeout, dropped));
    if (!verdict && dropped()) return;
    if (!verdict) {
      this.warn(`no verdict on step ${stepIndex} within ${this.config.verdictTimeout} s; training goes on`);
      return;
    }
    await this.act(verdict);
  }

  private async act(e: StatusEvent): Promise<void> {
    if (e.status === 'running' || e.status === 'analyzing') return;
    if (e.status === 'paused') {
      // A person paused: hold, with no timeout, until someone resumes or stops.
      this.options.onPaused?.(true);
      const next = await this.nextStatus((x) => x.status !== 'paused' && x.status !== 'analyzing', Infinity);
      this.options.onPaused?.(false);
      return this.act(next!);
    }
    if (e.status !== 'pending') throw new SessionStoppedError(e.status, this.sessionId);
    const issues: PendingIssue[] = e.run?.issues ?? [];
    const deadline = Date.now() + this.config.pendingTimeout * 1000;
    this.options.onPending?.({
      sessionId: this.sessionId!,
      stepIndex: e.stepIndex,
      issues,
      healthScore: e.run?.healthScore ?? null,
      deadline,
      resume: () => this.decideFromPrompt('resume'),
      stop: () => this.decideFromPrompt('stop'),
    });
    const decision = await this.nextStatus((x) => x.status !== 'pending' && x.status !== 'analyzing', this.config.pendingTimeout);
    if (decision) return this.act(decision);
    const checkpoint = this.model ? await saveCheckpoint(this.model, this.runId).catch((err) => (this.warn(`checkpoint failed: ${(err as Error).message}`), null)) : null;
    await this.decide('stop').catch(() => {});
    throw new PendingTimeoutError(this.config.pendingTimeout, issues, checkpoint);
  }

  /** A prompt's button: once the decision took effect the observer may close before its answer arrives; that is no failure. */
  private async decideFromPrompt(action: 'resume' | 'stop'): Promise<void> {
    try {
      await this.decide(action);
    } catch (err) {
      if (!this.closed) throw err;
    }
  }

  /**
   * Pauses the session on the server (status `paused`, seen by every dashboard); the next
   * {@link holdIfPaused} or flush holds until {@link resume} or a dashboard's Resume.
   */
  async pause(): Promise<void> {
    await this.decide('pause');
  }

  /** Resumes a paused (or pending) session. */
  async resume(): Promise<void> {
    await this.decide('resume');
  }

  /**
   * For a training loop, once per step: returns at once unless the session is paused (from
   * this page or any dashboard), then holds until it is resumed; throws
   * {@link SessionStoppedError} if it was stopped meanwhile. Costs nothing while running.
   */
  async holdIfPaused(): Promise<void> {
    if (this.status === 'paused' && this.lastEvent) await this.act(this.lastEvent);
  }

  /**
   * Sends a decision about the session (what a UI's buttons call). `complete` first lets the
   * steps still on their way land (up to 5 s): a completed session accepts no more steps.
   */
  async decide(action: 'pause' | 'resume' | 'stop' | 'complete'): Promise<void> {
    const sessionId = await this.sender.ensureSession();
    if (action === 'complete') await this.drain(Date.now() + 5000);
    await this.connection.request(ACTION, { s: sessionId, a: action });
  }

  /** Waits until nothing waits to be sent, until `until`, or until the server has been out of reach for half a second. */
  private async drain(until: number): Promise<void> {
    const busy = () => this.sender.outbox.size + this.recovered.reduce((n, r) => n + r.outbox.size, 0);
    // A socket the server just closed (1009) is back within moments: only a longer outage ends the wait early.
    let upAt = Date.now();
    this.sender.pump();
    for (;;) {
      // Warnings said while draining (a line cut to fit) go out too.
      this.queueLogs();
      if (this.connection.connected) upAt = Date.now();
      if (!busy() || Date.now() >= until || Date.now() - upAt > 500) break;
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /**
   * A tfjs callback for `model.fit`: records every batch's loss without reading it back and
   * flushes every `flushEvery` batches or at each epoch's end (with its validation metrics).
   */
  callbacks(opts: { flushEvery?: number | 'epoch' } = {}): tf.CustomCallbackArgs & tf.Callback {
    return new ObserverCallback(this, opts.flushEvery ?? 'epoch') as unknown as tf.CustomCallbackArgs & tf.Callback;
  }

  /** Everything recorded: session, hyperparameters, model, step records, what never reached the server. */
  report(): JsonObject {
    return encodeNonFinite({
      run_id: this.runId,
      run_name: this.runName,
      session_id: this.sessionId,
      config: configAsSeed(this.config),
      hyperparameters: this.hyperparameters,
      architecture: this.model ? describeModel(this.model, this.config.trackLayerGraph) : null,
      steps: this.records,
      unsent: this.sender.outbox.size,
      dropped: this.sender.outbox.dropped,
      rejected: this.sender.rejected,
      trimmed: this.sender.trimmed,
    }) as JsonObject;
  }

  /**
   * Writes the report as JSON: to `path` in Node (default `observer_reports/<runId>.json`),
   * as a download in a browser.
   * @returns the path or file name
   */
  async export(path?: string): Promise<string> {
    const text = JSON.stringify(this.report(), null, 2);
    const name = path ?? `observer_reports/${this.runId}.json`;
    if (nodeProcess) {
      const fs = (await import(/* @vite-ignore */ 'node:' + 'fs/promises')) as typeof import('node:fs/promises');
      const p = (await import(/* @vite-ignore */ 'node:' + 'path')) as typeof import('node:path');
      await fs.mkdir(p.dirname(p.resolve(name)), { recursive: true });
      await fs.writeFile(name, text);
      return name;
    }
    const doc = (globalThis as { document?: Document }).document!;
    const a = doc.createElement('a');
    a.href = URL.createObjectURL(new Blob([text], { type: 'application/json' }));
    a.download = name.split('/').pop()!;
    a.click();
    URL.revokeObjectURL(a.href);
    return a.download;
  }

  /** Whether the connection to the server is up right now. */
  get connected(): boolean {
    return this.connection.connected;
  }

  /** Records waiting for the server right now. */
  get unsent(): number {
    return this.sender.outbox.size;
  }

  /**
   * How the link to the server is doing: connected or not, the message budget now (smaller
   * than `maxMessageBytes` after the server closed a socket over a message too big), status
   * subscription errors, what was trimmed or refused, and the last problem in words.
   *
   * @example
   * ```ts
   * const t = obs.transport;
   * if (t.statusErrors) console.warn(`status updates failed ${t.statusErrors} times: ${t.lastError}`);
   * ```
   */
  get transport(): TransportState {
    return {
      ...this.connection.health,
      connected: this.connection.connected,
      unsent: this.unsent,
      trimmed: { ...this.sender.trimmed },
      rejected: { ...this.sender.rejected },
    };
  }

  /**
   * Sends the last logs, waits up to `drainSeconds` for the outbox to empty, restores the
   * console, and closes the connection.
   */
  async close(opts: { drainSeconds?: number } = {}): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.logs.stop();
    await this.drain(Date.now() + (opts.drainSeconds ?? 5) * 1000);
    this.sender.finish();
    this.releaseLock();
    this.stopWatching?.();
    this.loss.dispose();
    this.health?.dispose();
    await this.connection.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
