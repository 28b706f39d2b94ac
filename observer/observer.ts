import * as tf from '@tensorflow/tfjs';
import { ObserverCallback } from './callbacks.ts';
import { saveCheckpoint } from './checkpoint.ts';
import { sleep, systemClock, type Clock } from './clock.ts';
import { describeModel, isLayersModel, type ObservableModel } from './collectors/architecture.ts';
import { loadNodeOs, webgpuAdapterInfo } from './collectors/environment.ts';
import { LayerHealthCollector, type ProbeBatch } from './collectors/layer-health.ts';
import { LogCapture } from './collectors/logs.ts';
import { profileFunction, profileTrainingStep, type ProfiledStep } from './collectors/profiler.ts';
import { LossCollector } from './collectors/loss.ts';
import { SystemCollector } from './collectors/system.ts';
import { ThroughputCollector } from './collectors/throughput.ts';
import { configAsSeed, resolveConfig, unsupportedSettings, type ObserverConfig } from './config.ts';
import { FlushRecorder, type DeliveryCounts } from './flush-record.ts';
import { NanWatch } from './nan-watch.ts';
import type { Json, JsonObject, StepRecord } from './record.ts';
import { buildReport, writeReport } from './report.ts';
import { Connection, type ConnectionHealth, type StatusEvent } from './transport/connection.ts';
import { encodeNonFinite } from './transport/encode.ts';
import { hasIndexedDb, idbStore } from './transport/idb-store.ts';
import { holdLock, recoverLeftovers } from './transport/recovery.ts';
import { Sender, type SessionSpec } from './transport/sender.ts';
import { Outbox } from './transport/outbox.ts';
import { VerdictGate, type PendingPrompt } from './verdict.ts';
import { RemedyApplier } from './remedies/apply.ts';
import type { Gradients } from './remedies/clip.ts';
import { learningRateOf } from './remedies/learning-rate.ts';
import { SnapshotStore, worthKeeping } from './remedies/snapshots.ts';
import { remedyInput, START_OF_RUN, type Remedy, type RemedyApplication, type RemedyResult } from './remedies/types.ts';


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
  /**
   * The clock the observer's timeouts run on: the pending timeout, the verdict wait, the first
   * wait for the session, the reconnect and re-subscribe backoff. A `ManualClock` lets a test
   * run a 39-second timeout in milliseconds. (Measurements such as throughput, and `close()`'s
   * drain, use real time.) @default the system clock
   */
  clock?: Clock;
}

const ACTION = 'mutation($s: Int!, $a: SessionAction!) { sessionAction(sessionId: $s, action: $a) { status } }';
const ACTION_WITH_REMEDIES =
  'mutation($s: Int!, $a: SessionAction!, $r: [RemedyInput!], $src: String) { sessionAction(sessionId: $s, action: $a, remedies: $r, source: $src) { status } }';
const REPORT = 'mutation($s: Int!, $a: Int!, $r: [RemedyResultInput!]!) { reportRemedies(sessionId: $s, applicationId: $a, results: $r) { id } }';

/** Remedies the observer applied (or could not) for one resume, as reported to the server. */
export interface AppliedRemedies {
  /** The server's id of the resume's remedies. */
  applicationId: number;
  /** The flush after which they were applied (the newest one sent). */
  afterStep: number;
  results: RemedyResult[];
}

/** How long `create` waits for a reachable server to give the session an id before training starts. */
const FIRST_SESSION_WAIT_MS = 3000;

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
 * Watches a tfjs training run and streams it to the Observer server (seed §4-§5). A facade
 * over the parts that do the work: the collectors (`collectors/`), the NaN watch
 * (`nan-watch.ts`), the flush record (`flush-record.ts`), the verdict gate and pause hold
 * (`verdict.ts`), the report (`report.ts`) and the transport (`transport/`: one graphql-ws
 * connection, the outbox and its sender).
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

  private readonly clock: Clock;
  private readonly connection: Connection;
  private sender!: Sender;
  private readonly loss = new LossCollector();
  private readonly throughput = new ThroughputCollector();
  private readonly logs: LogCapture;
  private readonly watch: NanWatch;
  private readonly gate: VerdictGate;
  private recorder!: FlushRecorder;
  private hyperparameters: JsonObject = {};
  private model: ObservableModel | null = null;
  private health: LayerHealthCollector | null = null;
  private probe: ProbeBatch | null = null;
  private stopWatching: (() => void) | null = null;
  private closed = false;
  private optimizer: tf.Optimizer | null = null;
  private readonly snapshots: SnapshotStore | null;
  private readonly remedies: RemedyApplier;
  /** The best mean train loss of a flush so far, and the learning rate of the previous flush (what a snapshot is judged by). */
  private bestLoss: number | null = null;
  private previousLearningRate: number | null = null;
  /** Remedies a resume brought that are not applied yet (applied before the loop's next step). */
  private dueRemedies: RemedyApplication | null = null;
  private readonly appliedApplications = new Set<number>();
  private readonly reports = new Set<Promise<void>>();
  /** Every set of remedies applied, with what came of each. */
  readonly remedyHistory: AppliedRemedies[] = [];
  /** Outboxes of earlier pages (a reload, a closed tab) being delivered by this observer. */
  private recovered: Sender[] = [];
  private releaseLock: () => void = () => {};

  private constructor(
    private readonly options: ObserverOptions,
    config: ObserverConfig,
  ) {
    this.config = config;
    this.clock = options.clock ?? systemClock;
    this.runName = options.runName ?? 'run';
    this.runId = `${options.projectId}_${this.runName}`;
    this.connection = new Connection(`${config.serverUrl.replace(/^http/, 'ws').replace(/\/$/, '')}/graphql`, {
      maxMessageBytes: config.maxMessageBytes,
      warn: (msg) => this.warn(msg),
      clock: this.clock,
      ...(config.apiKey ? { connectionParams: { apiKey: config.apiKey } } : {}),
    });
    this.logs = new LogCapture({ console: config.trackConsoleLogs, errors: config.trackErrorLogs, maxBuffered: 5000 });
    this.watch = new NanWatch(this.loss);
    this.snapshots = config.snapshots ? new SnapshotStore(2) : null;
    this.remedies = new RemedyApplier({ variables: () => this.variables(), optimizer: () => this.currentOptimizer(), snapshots: this.snapshots });
    this.gate = new VerdictGate({
      clock: this.clock,
      verdictTimeout: config.verdictTimeout,
      pendingTimeout: config.pendingTimeout,
      sessionId: () => this.sessionId,
      connected: () => this.connection.connected,
      decide: (action, remedies, source) => this.decide(action, remedies, source),
      onPendingTimeout: config.onPendingTimeout,
      checkpoint: () => this.checkpoint(),
      closed: () => this.closed,
      warn: (msg) => this.warn(msg),
      onPending: options.onPending,
      onPaused: options.onPaused,
    });
  }

  /**
   * Creates the observer and its session on the server. A server that is down does not
   * fail this: the session is created when it comes back, and records wait in the outbox.
   */
  static async create(options: ObserverOptions): Promise<Observer> {
    const obs = new Observer(options, resolveConfig(options.config));
    await loadNodeOs();
    const system = new SystemCollector(obs.config.trackSystemResources ? await webgpuAdapterInfo() : null);
    obs.recorder = new FlushRecorder(obs.config, obs.throughput, system);
    for (const w of unsupportedSettings(obs.config)) if (!warnedOnce.has(w)) (warnedOnce.add(w), obs.warn(w));
    obs.logs.start();
    await obs.connection.open();
    const spec: SessionSpec = { projectId: options.projectId, sessionInput: obs.sessionInput(system), sessionId: null };
    const key = `${obs.runId}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;
    const store = hasIndexedDb() ? await idbStore({ key, ...spec }).catch(() => null) : null;
    obs.sender = new Sender(obs.connection, new Outbox(obs.config.outboxLimit, store), spec, store, {
      onSession: (id) => obs.onSession(id),
      warn: (msg) => obs.warn(msg),
      onDropped: (step) => obs.gate.onStepDropped(step),
    });
    obs.connection.onChange((up) => up && obs.sender.pump());
    obs.releaseLock = await holdLock(key);
    obs.recovered = await recoverLeftovers(obs.connection, obs.config.outboxLimit, key, (msg) => obs.warn(msg));
    const session = obs.sender.ensureSession();
    session.catch((err) => obs.warn(`could not create the session: ${(err as Error).message}`));
    // Wait briefly so a reachable server gives the session an id before training starts.
    await Promise.race([session, sleep(obs.clock, FIRST_SESSION_WAIT_MS)]).catch(() => {});
    return obs;
  }

  private sessionInput(system: SystemCollector): Json {
    const info = system.collect();
    return encodeNonFinite({
      runId: this.runId,
      runName: this.runName,
      startedAt: new Date().toISOString(),
      device: String(info.backend ?? 'unknown'),
      config: configAsSeed(this.config),
      metadata: { client: 'observer-tfjs', ...info, ...(this.options.metadata ?? {}) },
    });
  }

  private onSession(id: number): void {
    this.sessionId = id;
    this.stopWatching = this.connection.watchStatus(
      id,
      (e) => {
        // A resume's remedies are kept to apply before the next step (each application once).
        if (e.status === 'running' && e.remedies?.remedies.length && !this.appliedApplications.has(e.remedies.id)) this.dueRemedies = e.remedies;
        this.gate.onStatus(e);
      },
      // Said once per run of failures; the watch re-subscribes until the observer closes.
      (err, streak) => streak === 0 && this.warn(`status updates failed (${err.message}); subscribing again`),
    );
  }

  private warn(msg: string): void {
    if (this.config.logLevel !== 'error') this.logs.write('warn', `[observer] ${msg}`);
    this.logs.push('WARNING', msg, 'console', 'observer');
  }

  /** The session's last known status. */
  get status(): StatusEvent['status'] {
    return this.gate.status;
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
  registerModel(model: ObservableModel, opts: { probe?: ProbeBatch; optimizer?: tf.Optimizer } = {}): JsonObject {
    this.model = model;
    this.probe = opts.probe ?? null;
    this.optimizer = opts.optimizer ?? null;
    // Snapshots of another model's variables are no state of this one; this one's start is
    // kept (a rollback to step -1 returns to it when the run broke before any healthy flush).
    this.snapshots?.dispose();
    this.snapshots?.take(START_OF_RUN, this.variables(), this.currentOptimizer(), true);
    this.health?.dispose();
    this.health = this.config.trackLayerHealth ? new LayerHealthCollector(model, opts.probe ?? null, this.config.layerHealthZeroThreshold, this.config.layerHealthProbeSize) : null;
    this.recorder.setModel(model);
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
      this.recorder.setProfile(profile);
      return result;
    }
    const { loss, profile } = await profileTrainingStep(step, this.profilerOptions);
    this.recorder.setProfile(profile);
    return loss;
  }

  /** Profiles a forward and backward pass of the probe batch without updating (for `model.fit`, which runs its own steps). */
  async profileProbe(): Promise<void> {
    if (!this.probe?.y || !this.model || !(this.model instanceof tf.LayersModel)) return;
    const { loss, profile } = await profileTrainingStep({ model: this.model, x: this.probe.x, y: this.probe.y }, this.profilerOptions);
    loss.dispose();
    this.recorder.setProfile({ ...profile, measured_on: 'probe batch, no weight update' });
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
    this.watch.step(step, loss, this.config.trackLoss && this.config.flushOnNonFinite);
    return this.flushDue;
  }

  /**
   * True when a flush is due now: the NaN watch saw a NaN or Infinity loss since the last
   * flush. A loop that yields between steps (as a browser loop must) can check it after the
   * yield, so the flush covers the very step that broke.
   */
  get flushDue(): boolean {
    return this.watch.due;
  }

  /**
   * Sends everything since the previous flush as one step record (seed §6), then waits for
   * the server's verdict on it: `running` returns, `pending` waits for a decision (training
   * pauses), `stop` throws {@link SessionStoppedError}, no decision within `pendingTimeout`
   * saves a checkpoint, stops the session and throws {@link PendingTimeoutError}.
   */
  async flush(opts: { valMetrics?: Record<string, number> } = {}): Promise<StepRecord> {
    const startedAt = performance.now();
    if (!this.config.layerHealthEveryNSteps) this.health?.measure();
    const [loss, health] = await Promise.all([this.loss.collect(opts.valMetrics), this.health?.collect() ?? null]);
    this.watch.flushed(loss.first_non_finite_step != null);
    const lr = this.learningRate;
    const optimizer = this.currentOptimizer();
    const record = this.recorder.build(startedAt, loss, health, this.delivery, lr === null || !optimizer ? {} : { learning_rate: lr, optimizer: optimizer.getClassName() });
    this.queueLogs();
    this.sender.push({ kind: 'step', record });
    // Remedies that came while training went on (a resume after the verdict wait) apply now.
    this.applyDueRemedies(record.step_index - 1);
    const healthy = await this.gate.awaitVerdict(record.step_index);
    // The state at a flush judged healthy is what a rollback returns to (no copy, no readback).
    const mean = loss.train_mean;
    const keep = worthKeeping({ loss: mean, best: this.bestLoss, learningRate: lr, previousLearningRate: this.previousLearningRate });
    if (healthy && keep && this.snapshots && this.model) this.snapshots.take(record.step_index, this.variables(), this.currentOptimizer());
    if (mean !== null && Number.isFinite(mean)) this.bestLoss = Math.min(this.bestLoss ?? mean, mean);
    this.previousLearningRate = lr;
    this.applyDueRemedies(record.step_index);
    return record;
  }

  /** The model's variables (weights and non-trainable state such as batch-norm statistics). */
  private variables(): tf.Variable[] {
    const m = this.model;
    if (!m) return [];
    if (isLayersModel(m)) return m.weights.map((w) => (w as unknown as { read(): tf.Variable }).read());
    return [...new Set(Object.values(m.layers).flatMap((l) => l.variables))];
  }

  /** The optimizer remedies act on: the one given to `registerModel`, else a compiled model's. */
  private currentOptimizer(): tf.Optimizer | null {
    if (this.optimizer) return this.optimizer;
    const m = this.model;
    return m && isLayersModel(m) && m.optimizer && typeof m.optimizer === 'object' ? m.optimizer : null;
  }

  /**
   * The optimizer's learning rate now (sent with every flush as `observer.learning_rate`), or
   * null when no optimizer is known or it keeps none the observer can read.
   */
  get learningRate(): number | null {
    const o = this.currentOptimizer();
    return o ? learningRateOf(o) : null;
  }

  /**
   * The product of every learning-rate factor remedies applied (1 when none). A loop whose own
   * schedule sets the learning rate each step overrides a remedy; multiply the schedule by this
   * to keep it: `setLearningRate(base * schedule(step) * obs.learningRateScale)`.
   */
  get learningRateScale(): number {
    return this.remedies.learningRateScale;
  }

  /**
   * For a loop that computes its gradients itself: clips them by global norm once a
   * `clip_gradients` remedy was applied (new tensors; the given ones are disposed), and returns
   * them untouched otherwise. An optimizer the observer knows (given to `registerModel`, or a
   * compiled model's) clips in its own `applyGradients` already, so `minimize()` and
   * `model.fit` need nothing.
   *
   * @example
   * ```ts
   * const { value, grads } = optimizer.computeGradients(() => lossFn(model, x, y));
   * const clipped = obs.clipGradients(grads);
   * optimizer.applyGradients(clipped);
   * tf.dispose(clipped);
   * ```
   */
  clipGradients<G extends Gradients>(grads: G): G {
    return this.remedies.clipGradients(grads);
  }

  /** Applies the remedies a resume brought, if any, and reports what came of each to the server. */
  private applyDueRemedies(afterStep: number): void {
    const due = this.dueRemedies;
    if (!due || this.appliedApplications.has(due.id)) return;
    this.dueRemedies = null;
    this.appliedApplications.add(due.id);
    const results = this.remedies.apply(due.remedies);
    this.remedyHistory.push({ applicationId: due.id, afterStep, results });
    for (const r of results) if (!r.applied) this.warn(`remedy ${r.kind} not applied: ${r.detail}`);
    const sessionId = this.sessionId;
    if (sessionId === null) return;
    const report = this.connection
      .request(REPORT, { s: sessionId, a: due.id, r: results })
      .then(() => undefined, (err: Error) => this.warn(`could not report the remedies applied: ${err.message}`))
      .finally(() => this.reports.delete(report));
    this.reports.add(report);
  }

  /** What the transport says about delivery so far. */
  private get delivery(): DeliveryCounts {
    return { dropped: this.sender.outbox.dropped, rejected: this.sender.rejected, trimmed: this.sender.trimmed };
  }

  /** Moves captured log lines to the outbox, in batches the server accepts. */
  private queueLogs(): void {
    const lines = this.logs.take();
    for (let i = 0; i < lines.length; i += 500) this.sender.push({ kind: 'logs', lines: lines.slice(i, i + 500) });
  }

  /** Saves the model for a run the pending timeout stops (null without a model, or when saving failed: said in a warning). */
  private async checkpoint(): Promise<string | null> {
    if (!this.model) return null;
    return saveCheckpoint(this.model, this.runId).catch((err) => (this.warn(`checkpoint failed: ${(err as Error).message}`), null));
  }

  /**
   * Pauses the session on the server (status `paused`, seen by every dashboard); the next
   * {@link holdIfPaused} or flush holds until {@link resume} or a dashboard's Resume.
   */
  async pause(): Promise<void> {
    await this.decide('pause');
  }

  /**
   * Resumes a paused (or pending) session; with `remedies`, they are applied before the next
   * step (see {@link PendingPrompt.remedies}).
   */
  async resume(remedies?: Remedy[]): Promise<void> {
    await this.decide('resume', remedies);
  }

  /**
   * For a training loop, once per step: returns at once unless the session is paused (from
   * this page or any dashboard), then holds until it is resumed; throws
   * {@link SessionStoppedError} if it was stopped meanwhile. Costs nothing while running.
   */
  async holdIfPaused(): Promise<void> {
    await this.gate.holdIfPaused();
    this.applyDueRemedies(this.recorder.records.length - 1);
  }

  /**
   * Sends a decision about the session (what a UI's buttons call). `complete` first lets the
   * steps still on their way land (up to 5 s): a completed session accepts no more steps.
   */
  async decide(action: 'pause' | 'resume' | 'stop' | 'complete', remedies?: Remedy[], source = 'observer'): Promise<void> {
    const sessionId = await this.sender.ensureSession();
    if (action === 'complete') await this.drain(Date.now() + 5000);
    if (action === 'resume' && remedies?.length)
      await this.connection.request(ACTION_WITH_REMEDIES, { s: sessionId, a: action, r: remedies.map(remedyInput), src: source });
    else await this.connection.request(ACTION, { s: sessionId, a: action });
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
    return buildReport({
      runId: this.runId,
      runName: this.runName,
      sessionId: this.sessionId,
      config: configAsSeed(this.config),
      hyperparameters: this.hyperparameters,
      architecture: this.model ? describeModel(this.model, this.config.trackLayerGraph) : null,
      steps: this.recorder.records,
      unsent: this.sender.outbox.size,
      ...this.delivery,
    });
  }

  /**
   * Writes the report as JSON: to `path` in Node (default `observer_reports/<runId>.json`),
   * as a download in a browser.
   * @returns the path or file name
   */
  async export(path?: string): Promise<string> {
    return writeReport(this.report(), path ?? `observer_reports/${this.runId}.json`);
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
    if (this.reports.size) await Promise.race([Promise.allSettled([...this.reports]), new Promise((r) => setTimeout(r, 2000))]);
    this.sender.finish();
    this.releaseLock();
    this.stopWatching?.();
    this.loss.dispose();
    this.health?.dispose();
    this.snapshots?.dispose();
    await this.connection.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
