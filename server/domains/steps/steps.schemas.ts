import { z } from 'zod';
import { int32, jsonObject, metric, parseInput, text } from '../../lib/validate.ts';

const optionalMetric = metric.nullish();

/** The loss channel: typed fields are checked, anything else is kept. */
const loss = z
  .looseObject({
    train_mean: optionalMetric,
    train_min: optionalMetric,
    train_max: optionalMetric,
    train_std: optionalMetric,
    num_batches: int32(0).nullish(),
    val: z.record(z.string(), metric.nullable()).nullish(),
  })
  .nullish();

/** The keys of a step record that the seed names; any other key is an extra channel, kept verbatim. */
export const STEP_KEYS: ReadonlySet<string> = new Set([
  'step_index', 'timestamp', 'duration_seconds', 'loss', 'throughput', 'profiler', 'memory', 'system',
  'layer_health', 'sustainability', 'carbon_emissions',
]);

/** One step record in the seed's shape (§6), snake_case as every observer sends it. */
export const stepRecordInput = z.looseObject({
  step_index: int32(0),
  timestamp: text(64).nullish(),
  duration_seconds: optionalMetric,
  loss,
  throughput: jsonObject.nullish(),
  profiler: jsonObject.nullish(),
  memory: jsonObject.nullish(),
  system: jsonObject.nullish(),
  layer_health: jsonObject.nullish(),
  sustainability: jsonObject.nullish(),
  carbon_emissions: jsonObject.nullish(),
});
export type StepRecordInput = z.infer<typeof stepRecordInput>;

/** At most this many steps in one batch (`recordSteps`). */
const MAX_BATCH = 1000;
const stepBatchInput = z.array(stepRecordInput).min(1, 'expected at least one step').max(MAX_BATCH, `at most ${MAX_BATCH} steps per batch`);

/** A step as a client sent it (REST's body, GraphQL's input mapped to the seed's keys). @throws DomainError VALIDATION_FAILED */
export const parseStep = (value: unknown): StepRecordInput => parseInput(stepRecordInput, value, 'step');
/** A batch of steps. @throws DomainError VALIDATION_FAILED */
export const parseSteps = (value: unknown): StepRecordInput[] => parseInput(stepBatchInput, value, 'steps');
