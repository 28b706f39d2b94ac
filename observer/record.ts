import type { Remedy } from './remedies/types.ts';

/** A JSON value; numbers may be NaN or ±Infinity (the transport encodes them). */
export type Json = number | string | boolean | null | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

/** Loss statistics of one flush (seed §6). */
export interface LossStats {
  train_mean: number | null;
  train_min: number | null;
  train_max: number | null;
  train_std: number | null;
  num_batches: number;
  val?: Record<string, number>;
  /** The first step of this flush whose loss was NaN or ±Infinity, if any. */
  first_non_finite_step?: number | null;
}

/** What `flush()` returns and sends: the seed's step record (§6). */
export interface StepRecord {
  step_index: number;
  timestamp: string;
  duration_seconds: number;
  loss?: LossStats;
  throughput?: JsonObject;
  profiler?: JsonObject;
  memory?: JsonObject;
  system?: JsonObject;
  layer_health?: JsonObject;
  sustainability?: JsonObject;
  carbon_emissions?: JsonObject;
  /** Observer's own bookkeeping: records dropped while the server was unreachable, the first non-finite value. */
  observer?: JsonObject;
}

/** An issue of the diagnostic run that paused the session. */
export interface PendingIssue {
  /** The rule that raised it, e.g. `loss.non_finite`. */
  code: string;
  severity: 'critical' | 'warning' | 'info';
  category: string;
  title: string;
  description: string;
  suggestion: string;
  /** How sure the rule is, 0.5-1 (null from a server that does not say). */
  confidence: number | null;
  layerId: string | null;
  epochIndex: number | null;
  /** What the rules propose to do to the live training, each with its reason (empty for most issues); see `PendingPrompt.resume`. */
  remedies: Remedy[];
}
