import type { JsonObject, JsonValue } from '../lib/extended-json.ts';
import type { Remedy } from './remedy.ts';

/** Issue severities (seed §9). */
export const Severity = { critical: 'critical', warning: 'warning', info: 'info' } as const;
export type Severity = (typeof Severity)[keyof typeof Severity];

/** Issue categories: the eight of seed §9, plus per-layer health. */
export const Category = {
  loss: 'loss',
  throughput: 'throughput',
  memory: 'memory',
  profiler: 'profiler',
  logs: 'logs',
  system: 'system',
  architecture: 'architecture',
  sustainability: 'sustainability',
  layerHealth: 'layer_health',
} as const;
export type Category = (typeof Category)[keyof typeof Category];

/** One problem a rule found. */
export interface Issue {
  /** Stable rule identifier, e.g. `loss.non_finite`. */
  code: string;
  severity: Severity;
  category: Category;
  title: string;
  /** What was seen: the numbers, the window and the threshold. */
  description: string;
  /** Concrete fixes to try. */
  suggestion: string;
  /**
   * How sure the rule is, 0.5-1: 0.5 when the evidence just crosses its threshold (or is seen
   * in the fewest flushes the rule accepts), 1 when it is decisive; 1 for facts (a NaN, a
   * configuration that cannot work). See `confidence` in rules/util.ts.
   */
  confidence: number;
  layerId?: string | null;
  /** The step (flush) the issue is about. */
  epochIndex?: number | null;
  metricValue?: JsonObject | null;
  /**
   * What to do to the live training, machine-actionable (see remedy.ts): one fix, applied
   * together. Attached by the engine from `rules/remedies.ts`; empty when no remedy applies.
   */
  remedies?: Remedy[];
}

/** Loss statistics of one flush, as the seed's observers send them. */
export interface LossChannel {
  train_mean?: number | null;
  train_min?: number | null;
  train_max?: number | null;
  train_std?: number | null;
  num_batches?: number | null;
  /** The training step (within the flush) whose loss was NaN or Infinity first, from the observer. */
  first_non_finite_step?: number | null;
  val?: Record<string, number | null> | null;
}

/** Per-layer health of one flush. */
export interface LayerHealthEntry {
  activation_mean?: number | null;
  activation_std?: number | null;
  gradient_norm_mean?: number | null;
  weight_sparsity?: number | null;
  is_dead?: boolean | null;
  has_vanishing_gradients?: boolean | null;
  [key: string]: JsonValue | undefined;
}

/** One step record (seed §6) as the rules read it; channels may be missing. */
export interface StepRecord {
  step_index: number;
  timestamp?: string | null;
  duration_seconds?: number | null;
  loss?: LossChannel | null;
  throughput?: JsonObject | null;
  profiler?: JsonObject | null;
  memory?: JsonObject | null;
  system?: JsonObject | null;
  layer_health?: { layers?: Record<string, LayerHealthEntry> } | null;
  sustainability?: JsonObject | null;
  carbon_emissions?: JsonObject | null;
  /** The TypeScript observer's bookkeeping (first non-finite step, dropped records). */
  observer?: JsonObject | null;
}

/** The model a session registered. */
export interface ModelInfo {
  architecture: JsonObject | null;
  hyperparameters: JsonObject | null;
}

/** What a rule sees: the session's recent history, kept in memory. */
export interface DiagnosticContext {
  /** Recent steps, oldest first (a bounded window). */
  steps: readonly StepRecord[];
  /** How many of `steps` (at the end) arrived since the previous run. */
  newSteps: number;
  /** The first steps of the session, for baselines (bounded). */
  early: readonly StepRecord[];
  /** Steps recorded over the whole session. */
  totalSteps: number;
  /** Best (lowest) finite train loss so far and the step it was seen at. */
  bestLoss: { value: number; stepIndex: number } | null;
  model: ModelInfo | null;
  /** Error-level logs since the previous run, and over the session. */
  errorLogs: { sinceLastRun: number; total: number; recentMessages: readonly string[] };
}

/** A rule: a small pure function over the context. */
export type Rule = (ctx: DiagnosticContext) => Issue[];
