import { actorOf } from '../../auth/principal.ts';
import { builder } from '../../graphql/builder.ts';
import { LogRef, ModelRef, ProjectRef, RunRef, SessionRef, StatusEventRef, StepRef } from '../../graphql/refs.ts';
import { selectedFields } from '../../graphql/selection.ts';
import type { StepChannel } from '../mappers.ts';
import { RemedyInputRef } from '../remedies/remedies.graphql.ts';
import type { StepSeries } from '../views.ts';
import { parseAction, parseModel, parseSession, parseSessionsQuery } from './sessions.schemas.ts';
import { SESSION_ACTIONS, SESSION_STATUSES } from './status.ts';

/** TrainStep fields → the stored channels they read; undefined (all) when `record` is asked. */
const FIELD_CHANNELS: Record<string, StepChannel> = {
  durationSeconds: 'durationSeconds',
  loss: 'loss',
  throughput: 'throughput',
  memory: 'memory',
  system: 'system',
  profiler: 'profiler',
  layerHealth: 'layerHealth',
  sustainability: 'sustainability',
  carbonEmissions: 'carbonEmissions',
};

function stepChannels(fields: Set<string>): StepChannel[] | undefined {
  if (fields.has('record')) return undefined;
  return [...fields].flatMap((f) => (FIELD_CHANNELS[f] ? [FIELD_CHANNELS[f]] : []));
}

const ValSeriesRef = builder.objectRef<{ name: string; values: (number | null)[] }>('ValSeries').implement({
  description: 'One validation metric over the steps.',
  fields: (t) => ({ name: t.exposeString('name'), values: t.field({ type: ['Metric'], nullable: { list: false, items: true }, resolve: (v) => v.values }) }),
});

const StepSeriesRef = builder.objectRef<StepSeries>('StepSeries').implement({
  description: 'Chart columns of a session: entry i of each list belongs to stepIndex[i].',
  fields: (t) => {
    const column = (pick: (s: StepSeries) => (number | null)[]) => t.field({ type: ['Metric'], nullable: { list: false, items: true }, resolve: pick });
    return {
      stepIndex: t.exposeIntList('stepIndex'),
      trainLoss: column((s) => s.trainLoss),
      samplesPerSecond: column((s) => s.samplesPerSecond),
      numTensors: column((s) => s.numTensors),
      numBatches: t.field({ type: ['Int'], nullable: { list: false, items: true }, description: 'Training steps (batches) in each flush, null where the client did not say.', resolve: (s) => s.numBatches }),
      val: t.field({ type: [ValSeriesRef], resolve: (s) => Object.entries(s.val).map(([name, values]) => ({ name, values })) }),
    };
  },
});

export const SessionStatusEnum = builder.enumType('SessionStatus', { values: SESSION_STATUSES });
const SessionActionEnum = builder.enumType('SessionAction', { values: SESSION_ACTIONS });

ModelRef.implement({
  fields: (t) => ({
    id: t.exposeInt('id'),
    sessionId: t.exposeInt('sessionId'),
    architecture: t.expose('architecture', { type: 'JSON', nullable: true }),
    hyperparameters: t.expose('hyperparameters', { type: 'JSON', nullable: true }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});

SessionRef.implement({
  description: 'One training run.',
  fields: (t) => ({
    id: t.exposeInt('id'),
    projectId: t.exposeInt('projectId'),
    project: t.field({ type: ProjectRef, resolve: (s, _a, { services }) => services.projects.get(s.projectId) }),
    runId: t.exposeString('runId'),
    runName: t.exposeString('runName', { nullable: true }),
    startedAt: t.expose('startedAt', { type: 'DateTime' }),
    endedAt: t.expose('endedAt', { type: 'DateTime', nullable: true }),
    device: t.exposeString('device', { nullable: true }),
    cudaAvailable: t.exposeBoolean('cudaAvailable', { nullable: true }),
    pytorchVersion: t.exposeString('pytorchVersion', { nullable: true }),
    config: t.expose('config', { type: 'JSON', nullable: true }),
    metadata: t.expose('metadata', { type: 'JSON', nullable: true }),
    status: t.field({ type: SessionStatusEnum, resolve: (s) => s.status }),
    statusVersion: t.exposeInt('statusVersion', { description: 'Grows by one with every status change; status events carry it as `version`.' }),
    model: t.field({ type: ModelRef, nullable: true, resolve: (s, _a, { services }) => services.sessions.model(s.id) }),
    stepCount: t.int({ resolve: (s, _a, { services }) => services.steps.count(s.id) }),
    steps: t.field({
      type: [StepRef],
      description: 'Steps by ascending index: `after` a step index, at most `first` (1 to 10000, default 1000); or the `last` N (1 to 10000).',
      args: { first: t.arg.int(), after: t.arg.int(), last: t.arg.int() },
      resolve: async (s, args, { services }, info) => (await services.steps.list(s.id, args, stepChannels(selectedFields(info)))).items,
    }),
    series: t.field({
      type: StepSeriesRef,
      description:
        'The chart quantities of every step (after the step index `after`), one array per quantity in step order: the cheap way to draw a long session. NaN and Infinity come as strings.',
      args: { after: t.arg.int(), first: t.arg.int({ description: 'At most this many steps (1 to 100000, default 100000); page on with `after`.' }) },
      resolve: (s, { after, first }, { services }) => services.steps.series(s.id, after ?? null, first),
    }),
    logs: t.field({
      type: [LogRef],
      description: 'Log lines oldest first, `after` a log id, at most `first` (1 to 10000, default 500); or the `last` N. `levels` filters (at most 20, e.g. ["ERROR", "WARNING"]).',
      args: { first: t.arg.int(), after: t.arg.int(), last: t.arg.int(), levels: t.arg.stringList() },
      resolve: async (s, args, { services }) => (await services.logs.list(s.id, args)).items,
    }),
    diagnostics: t.field({
      type: [RunRef],
      description: 'Diagnostic runs newest first, before the run id `after`, at most `first` (1 to 1000, default 50).',
      args: { first: t.arg.int(), after: t.arg.int(), withIssuesOnly: t.arg.boolean() },
      resolve: async (s, args, { services }) => (await services.diagnostics.runs(s.id, args)).items,
    }),
    latestDiagnostics: t.field({ type: RunRef, nullable: true, resolve: (s, _a, { services }) => services.diagnostics.latest(s.id) }),
  }),
});

const PageInfo = builder
  .objectRef<{ hasNextPage: boolean; endCursor: number | null }>('PageInfo')
  .implement({ fields: (t) => ({ hasNextPage: t.exposeBoolean('hasNextPage'), endCursor: t.exposeInt('endCursor', { nullable: true }) }) });

const SessionPage = builder.objectRef<{ nodes: import('../views.ts').SessionView[]; pageInfo: { hasNextPage: boolean; endCursor: number | null } }>('SessionPage').implement({
  fields: (t) => ({ nodes: t.field({ type: [SessionRef], resolve: (p) => p.nodes }), pageInfo: t.field({ type: PageInfo, resolve: (p) => p.pageInfo }) }),
});

const SessionInput = builder.inputType('SessionInput', {
  fields: (t) => ({
    runId: t.string(),
    runName: t.string(),
    startedAt: t.string({ description: 'ISO 8601' }),
    device: t.string(),
    cudaAvailable: t.boolean(),
    pytorchVersion: t.string(),
    config: t.field({ type: 'JSON' }),
    metadata: t.field({ type: 'JSON', description: 'Anything else: tfjs version, backend, user agent...' }),
  }),
});

const ModelInput = builder.inputType('ModelInput', {
  fields: (t) => ({ architecture: t.field({ type: 'JSON' }), hyperparameters: t.field({ type: 'JSON' }) }),
});

const RegisteredModel = builder
  .objectRef<{ model: import('../views.ts').ModelView; diagnostics: import('../views.ts').DiagnosticRunView }>('RegisteredModel')
  .implement({ fields: (t) => ({ model: t.field({ type: ModelRef, resolve: (r) => r.model }), diagnostics: t.field({ type: RunRef, resolve: (r) => r.diagnostics }) }) });

builder.queryFields((t) => ({
  session: t.field({
    type: SessionRef,
    args: { id: t.arg.int({ required: true }) },
    resolve: (_r, { id }, { services }) => services.sessions.get(id),
  }),
  sessions: t.field({
    type: SessionPage,
    description: 'Sessions newest first, at most `first` (1 to 500, default 50); pass `pageInfo.endCursor` as `after` for the next page. `status: running` also selects sessions `analyzing` (judging their newest steps).',
    args: { projectId: t.arg.int(), status: t.arg({ type: SessionStatusEnum }), first: t.arg.int(), after: t.arg.int() },
    resolve: async (_r, args, { services }) => {
      const page = await services.sessions.list(parseSessionsQuery(args));
      return { nodes: page.items, pageInfo: { hasNextPage: page.nextCursor !== null, endCursor: page.nextCursor } };
    },
  }),
}));

builder.mutationFields((t) => ({
  createSession: t.field({
    type: SessionRef,
    args: { projectId: t.arg.int({ required: true }), input: t.arg({ type: SessionInput }) },
    resolve: (_r, { projectId, input }, { services }) => services.sessions.create(projectId, parseSession(input)),
  }),
  registerModel: t.field({
    type: RegisteredModel,
    args: { sessionId: t.arg.int({ required: true }), input: t.arg({ type: ModelInput, required: true }) },
    resolve: (_r, { sessionId, input }, { services }) => services.sessions.registerModel(sessionId, parseModel(input)),
  }),
  sessionAction: t.field({
    type: SessionRef,
    description: 'pause, resume, stop, complete or fail. A resume may carry `remedies` (from the issues that paused the run, or by hand): its status event brings them to the observer.',
    args: {
      sessionId: t.arg.int({ required: true }),
      action: t.arg({ type: SessionActionEnum, required: true }),
      remedies: t.arg({ type: [RemedyInputRef], description: 'With resume only: at most one of each kind.' }),
      source: t.arg.string({ description: 'What the client is, for the record: dashboard, trainer, observer:timeout...' }),
    },
    resolve: (_r, { sessionId, action, remedies, source }, { services, principal }) => services.sessions.act(sessionId, parseAction({ action, remedies, source }), actorOf(principal)),
  }),
}));

StatusEventRef.implement({
  description: "A change of a session's status. `stepIndex` is the newest step judged (for diagnostics) or recorded.",
  fields: (t) => ({
    sessionId: t.exposeInt('sessionId'),
    status: t.field({ type: SessionStatusEnum, resolve: (e) => e.status }),
    previousStatus: t.field({ type: SessionStatusEnum, resolve: (e) => e.previousStatus }),
    version: t.exposeInt('version', {
      description: "The session's status version after this change (one more per change, across replicas): ignore an event whose version is not newer than the last one applied.",
    }),
    stepIndex: t.exposeInt('stepIndex', { nullable: true }),
    reason: t.exposeString('reason'),
    at: t.expose('at', { type: 'DateTime' }),
    run: t.field({ type: RunRef, nullable: true, description: 'The diagnostic run that caused the change.', resolve: (e) => e.run }),
    missedBefore: t.exposeInt('missedBefore', { description: 'Status events this subscriber missed (it lagged); the status here is the current one.' }),
  }),
});

builder.subscriptionFields((t) => ({
  sessionCreated: t.field({
    type: SessionRef,
    description: 'Each session created from now on, of any project.',
    subscribe: (_r, _a, { services }) => services.sessions.watchCreated(),
    resolve: (s) => s,
  }),
  sessionStatus: t.field({
    type: StatusEventRef,
    description: "Each change of the session's status, starting with its current status.",
    args: { sessionId: t.arg.int({ required: true }) },
    subscribe: async (_r, { sessionId }, { services }) => services.sessions.watchStatus(sessionId),
    resolve: (e) => e,
  }),
}));
