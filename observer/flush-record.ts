import type { ObservableModel } from './collectors/architecture.ts';
import { LayerHealthCollector } from './collectors/layer-health.ts';
import { collectMemory } from './collectors/memory.ts';
import { SustainabilityCollector } from './collectors/sustainability.ts';
import type { SystemCollector } from './collectors/system.ts';
import type { ThroughputCollector } from './collectors/throughput.ts';
import type { ObserverConfig } from './config.ts';
import type { JsonObject, LossStats, StepRecord } from './record.ts';

/** Counts by kind of what did not reach the server as sent. */
export interface Counts {
  steps: number;
  logs: number;
}

/** What the transport says about delivery, carried in each record's `observer` bookkeeping. */
export interface DeliveryCounts {
  /** Dropped because the outbox was full. */
  dropped: Counts;
  /** Refused for good by the server, or too big for any message. */
  rejected: Counts;
  /** Sent without some channels, or cut, to fit the message limit. */
  trimmed: Counts;
}

/**
 * The flush record: assembles everything since the previous flush into one step record (the
 * seed's §6): the loss and layer health read at this flush, throughput over its wall time,
 * memory, system, the profile taken since, sustainability and carbon, and the observer's own
 * bookkeeping (the first non-finite value, what was dropped, refused or trimmed). It keeps
 * every record for the report.
 */
export class FlushRecorder {
  private flushIndex = 0;
  private lastFlushAt = performance.now();
  private firstNonFinite: JsonObject | null = null;
  private profile: JsonObject | null = null;
  private sustainability: SustainabilityCollector | null = null;
  /** Every record made, in order. */
  readonly records: StepRecord[] = [];

  constructor(
    private readonly config: ObserverConfig,
    private readonly throughput: ThroughputCollector,
    private readonly system: SystemCollector,
  ) {}

  /** A model was registered: sustainability figures are per its layers from now on. */
  setModel(model: ObservableModel | null): void {
    this.sustainability = new SustainabilityCollector(model, { countryIso: this.config.carbonCountryIso, deviceWatts: this.config.carbonDeviceWatts });
  }

  /** A profile to send with the next record. */
  setProfile(profile: JsonObject): void {
    this.profile = profile;
  }

  /**
   * The record of this flush. `startedAt` is when the flush began (`performance.now()`), before
   * the loss and layer health were read back; `observer` goes into its bookkeeping as it is
   * (the learning rate the flush trained with).
   */
  build(startedAt: number, loss: LossStats, health: JsonObject | null, delivery: DeliveryCounts, observer: JsonObject = {}): StepRecord {
    const { config } = this;
    const seconds = (startedAt - this.lastFlushAt) / 1000;
    const elapsed = (performance.now() - this.lastFlushAt) / 1000;
    this.lastFlushAt = performance.now();
    const record: StepRecord = { step_index: this.flushIndex++, timestamp: new Date().toISOString(), duration_seconds: elapsed };
    if (config.trackLoss) record.loss = loss;
    if (config.trackThroughput) record.throughput = this.throughput.collect(Math.max(seconds, elapsed));
    if (config.trackMemory) record.memory = collectMemory();
    if (config.trackSystemResources) record.system = this.system.collect();
    if (health) record.layer_health = health;
    if (this.profile) {
      record.profiler = this.profile;
      this.sustainability?.notePerLayer(this.profile.per_layer as JsonObject[] | undefined);
      this.profile = null;
    }
    if (config.trackSustainability || config.trackCarbonEmissions) {
      if (!this.sustainability) this.setModel(null);
      const samples = typeof record.throughput?.samples_processed === 'number' ? record.throughput.samples_processed : 0;
      const { sustainability, carbon } = this.sustainability!.collect(samples, elapsed, loss.train_mean);
      if (config.trackSustainability) record.sustainability = sustainability;
      if (config.trackCarbonEmissions) record.carbon_emissions = carbon;
    }
    const badLayer = LayerHealthCollector.firstNonFinite(health);
    if ((loss.first_non_finite_step != null || badLayer) && !this.firstNonFinite)
      this.firstNonFinite = { step: loss.first_non_finite_step ?? null, flush: record.step_index, channel: loss.first_non_finite_step != null ? 'loss' : 'layer_health', layer: badLayer };
    const bookkeeping: JsonObject = { ...observer };
    if (this.firstNonFinite) bookkeeping.first_non_finite = this.firstNonFinite;
    const { dropped, rejected, trimmed } = delivery;
    if (dropped.steps || dropped.logs) bookkeeping.dropped = { ...dropped };
    if (rejected.steps || rejected.logs) bookkeeping.rejected = { ...rejected };
    if (trimmed.steps || trimmed.logs) bookkeeping.trimmed = { ...trimmed };
    if (Object.keys(bookkeeping).length) record.observer = bookkeeping;
    this.records.push(record);
    return record;
  }
}
