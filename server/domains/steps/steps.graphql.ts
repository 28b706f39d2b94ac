import type { JsonObject } from '../../lib/extended-json.ts';
import type { Delivered } from '../../lib/pubsub.ts';
import { builder } from '../../graphql/builder.ts';
import { StepRef } from '../../graphql/refs.ts';
import { validationError } from '../../errors.ts';
import { toStepRecord } from '../mappers.ts';
import { parseStep, parseSteps, STEP_KEYS } from './steps.schemas.ts';
import type { StepView } from '../views.ts';

/** Reads a numeric field of a channel for a typed GraphQL field. */
const metric = (obj: JsonObject | null, key: string): number | null => {
  const v = obj?.[key];
  return typeof v === 'number' ? v : null;
};

/** A typed view of a channel: each field a Metric read from its snake_case key. */
function channelType(name: string, description: string, fields: Record<string, string>, strings: Record<string, string> = {}) {
  return builder.objectRef<JsonObject>(name).implement({
    description,
    fields: (t) => ({
      ...Object.fromEntries(
        Object.entries(fields).map(([gql, key]) => [gql, t.field({ type: 'Metric', nullable: true, resolve: (o) => metric(o, key) })]),
      ),
      ...Object.fromEntries(
        Object.entries(strings).map(([gql, key]) => [gql, t.string({ nullable: true, resolve: (o) => (typeof o[key] === 'string' ? (o[key] as string) : null) })]),
      ),
      raw: t.field({ type: 'JSON', description: 'The channel as sent, every key included.', resolve: (o) => o }),
    }),
  });
}

const LossStats = channelType('LossStats', 'Loss statistics over one flush.', {
  trainMean: 'train_mean',
  trainMin: 'train_min',
  trainMax: 'train_max',
  trainStd: 'train_std',
});
builder.objectField(LossStats, 'numBatches', (t) =>
  t.int({ nullable: true, resolve: (o) => (typeof o.num_batches === 'number' && Number.isInteger(o.num_batches) ? o.num_batches : null) }),
);
builder.objectField(LossStats, 'val', (t) =>
  t.field({ type: 'JSON', nullable: true, description: 'Validation metrics of the flush, e.g. {"val_loss": 0.4}.', resolve: (o) => o.val ?? null }),
);
const Throughput = channelType('Throughput', 'Training speed over one flush.', {
  samplesProcessed: 'samples_processed',
  tokensProcessed: 'tokens_processed',
  samplesPerSecond: 'samples_per_second',
  tokensPerSecond: 'tokens_per_second',
});
const Memory = channelType('Memory', 'Memory at the flush: tfjs (tensors, bytes), JS heap, process and GPU.', {
  numTensors: 'num_tensors',
  numBytes: 'num_bytes',
  numBytesGpu: 'num_bytes_gpu',
  jsHeapUsedMb: 'js_heap_used_mb',
  jsHeapLimitMb: 'js_heap_limit_mb',
  processRssMb: 'process_rss_mb',
  cudaAllocatedMb: 'cuda_allocated_mb',
  cudaPeakAllocatedMb: 'cuda_peak_allocated_mb',
  cudaTotalMb: 'cuda_total_mb',
});
const SystemInfo = channelType(
  'SystemInfo',
  'The machine and runtime at the flush.',
  { cpuPercent: 'cpu_percent', ramPercent: 'ram_percent', cores: 'cores', deviceMemoryGb: 'device_memory_gb' },
  { gpuName: 'gpu_name', backend: 'backend', userAgent: 'user_agent' },
);

StepRef.implement({
  description: 'One flush of an observer: the seed step record (§6).',
  fields: (t) => ({
    id: t.exposeInt('id'),
    sessionId: t.exposeInt('sessionId'),
    stepIndex: t.exposeInt('stepIndex'),
    timestamp: t.exposeString('timestamp', { nullable: true }),
    durationSeconds: t.expose('durationSeconds', { type: 'Metric', nullable: true }),
    loss: t.field({
      type: LossStats,
      nullable: true,
      resolve: (s) => s.loss,
    }),
    throughput: t.field({ type: Throughput, nullable: true, resolve: (s) => s.throughput }),
    memory: t.field({ type: Memory, nullable: true, resolve: (s) => s.memory }),
    system: t.field({ type: SystemInfo, nullable: true, resolve: (s) => s.system }),
    profiler: t.expose('profiler', { type: 'JSON', nullable: true }),
    layerHealth: t.expose('layerHealth', { type: 'JSON', nullable: true }),
    sustainability: t.expose('sustainability', { type: 'JSON', nullable: true }),
    carbonEmissions: t.expose('carbonEmissions', { type: 'JSON', nullable: true }),
    record: t.field({ type: 'JSON', description: 'The whole step record as the seed defines it (snake_case).', resolve: (s) => toStepRecord(s) }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});

const LossInput = builder.inputType('LossInput', {
  fields: (t) => ({
    trainMean: t.field({ type: 'Metric' }),
    trainMin: t.field({ type: 'Metric' }),
    trainMax: t.field({ type: 'Metric' }),
    trainStd: t.field({ type: 'Metric' }),
    numBatches: t.int(),
    val: t.field({ type: 'JSON', description: 'Validation metrics, e.g. {"val_loss": 0.4}.' }),
  }),
});

const StepInput = builder.inputType('StepInput', {
  description: 'One step record. Free-form channels take the seed\'s snake_case keys (e.g. layerHealth: {"layers": {...}}).',
  fields: (t) => ({
    stepIndex: t.int({ required: true }),
    timestamp: t.string(),
    durationSeconds: t.field({ type: 'Metric' }),
    loss: t.field({ type: LossInput }),
    throughput: t.field({ type: 'JSON' }),
    memory: t.field({ type: 'JSON' }),
    system: t.field({ type: 'JSON' }),
    profiler: t.field({ type: 'JSON' }),
    layerHealth: t.field({ type: 'JSON' }),
    sustainability: t.field({ type: 'JSON' }),
    carbonEmissions: t.field({ type: 'JSON' }),
    extra: t.field({ type: 'JSON', description: 'Any other channels, kept verbatim.' }),
  }),
});

type StepInputShape = typeof StepInput.$inferInput;

/** GraphQL's camelCase input → the seed's record, which the service validates. */
function toRecord(i: StepInputShape): Record<string, unknown> {
  const loss = i.loss
    ? { train_mean: i.loss.trainMean, train_min: i.loss.trainMin, train_max: i.loss.trainMax, train_std: i.loss.trainStd, num_batches: i.loss.numBatches, val: i.loss.val }
    : i.loss;
  if (i.extra !== null && i.extra !== undefined && (typeof i.extra !== 'object' || Array.isArray(i.extra)))
    throw validationError('Invalid step: extra: expected a JSON object');
  const extra = (i.extra ?? {}) as Record<string, unknown>;
  // A key the seed names would be overwritten by the typed field: refuse it rather than drop it.
  const taken = Object.keys(extra).find((k) => STEP_KEYS.has(k));
  if (taken !== undefined) throw validationError(`Invalid step: extra.${taken}: "${taken}" is a step field; send it as that field, not in extra`);
  return {
    ...extra,
    step_index: i.stepIndex,
    timestamp: i.timestamp,
    duration_seconds: i.durationSeconds,
    loss: loss && Object.fromEntries(Object.entries(loss).filter(([, v]) => v !== undefined)),
    throughput: i.throughput,
    memory: i.memory,
    system: i.system,
    profiler: i.profiler,
    layer_health: i.layerHealth,
    sustainability: i.sustainability,
    carbon_emissions: i.carbonEmissions,
  };
}

const RecordedStep = builder.objectRef<{ step: StepView; created: boolean }>('RecordedStep').implement({
  fields: (t) => ({
    step: t.field({ type: StepRef, resolve: (r) => r.step }),
    created: t.exposeBoolean('created', { description: 'False when this step index was already stored: the stored step is returned.' }),
  }),
});

const StepEvent = builder.objectRef<Delivered<StepView>>('StepEvent').implement({
  fields: (t) => ({
    step: t.field({ type: StepRef, resolve: (e) => e }),
    missedBefore: t.exposeInt('missedBefore', { description: 'Steps dropped before this one because the subscriber lagged; fetch them with `session.steps(after:)`.' }),
  }),
});

builder.mutationFields((t) => ({
  recordStep: t.field({
    type: RecordedStep,
    args: { sessionId: t.arg.int({ required: true }), input: t.arg({ type: StepInput, required: true }) },
    resolve: (_r, { sessionId, input }, { services }) => services.steps.record(sessionId, parseStep(toRecord(input))),
  }),
  recordSteps: t.field({
    type: [RecordedStep],
    description: 'A batch (a backlog a client resends), stored in one transaction; step indexes already stored are skipped.',
    args: { sessionId: t.arg.int({ required: true }), steps: t.arg({ type: [StepInput], required: true }) },
    resolve: (_r, { sessionId, steps }, { services }) => services.steps.recordMany(sessionId, parseSteps(steps.map(toRecord))),
  }),
}));

builder.subscriptionFields((t) => ({
  sessionSteps: t.field({
    type: StepEvent,
    args: { sessionId: t.arg.int({ required: true }) },
    subscribe: (_r, { sessionId }, { services }) => services.steps.watch(sessionId),
    resolve: (e) => e,
  }),
}));
