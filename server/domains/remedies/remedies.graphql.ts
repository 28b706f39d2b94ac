import { describeAction, REMEDY_KINDS, type ChosenRemedy, type Remedy } from '../../diagnostics/remedy.ts';
import { builder } from '../../graphql/builder.ts';
import { IssueRef, SessionRef, StatusEventRef } from '../../graphql/refs.ts';
import type { RemedyApplicationView, RemedyResult } from '../views.ts';
import { parseReport } from './remedies.schemas.ts';

const RemedyKindEnum = builder.enumType('RemedyKind', {
  description:
    'scale_learning_rate (by `factor`), clip_gradients (global norm to `maxNorm`), rollback (to the newest snapshot at or before `toStep`: the last good state), skip_batch (the batch that went non-finite at `atStep` / `trainingStep`).',
  values: REMEDY_KINDS,
});

/** Parameters a kind does not take read as null. */
const param = <K extends 'factor' | 'maxNorm' | 'toStep' | 'atStep' | 'trainingStep'>(r: Remedy | ChosenRemedy, k: K): number | null => {
  const v = (r as Partial<Record<K, number | null>>)[k];
  return v ?? null;
};

const RemedyRef = builder.objectRef<Remedy | ChosenRemedy>('Remedy').implement({
  description: 'A machine-actionable fix: its kind and parameters, why, and how sure the rules are. An issue\'s remedies are one fix, listed in the order an observer applies them.',
  fields: (t) => ({
    kind: t.field({ type: RemedyKindEnum, resolve: (r) => r.kind }),
    factor: t.float({ nullable: true, description: 'scale_learning_rate: the factor (0.1: ten times lower).', resolve: (r) => param(r, 'factor') }),
    maxNorm: t.float({ nullable: true, description: 'clip_gradients: the largest global gradient norm.', resolve: (r) => param(r, 'maxNorm') }),
    toStep: t.int({ nullable: true, description: 'rollback: restore the newest snapshot taken at or before this step (null: the newest one kept; -1: the state the run started with).', resolve: (r) => param(r, 'toStep') }),
    atStep: t.int({ nullable: true, description: 'skip_batch: the step (flush) whose loss went non-finite.', resolve: (r) => param(r, 'atStep') }),
    trainingStep: t.int({ nullable: true, description: 'skip_batch: the training step that broke, when the observer named it.', resolve: (r) => param(r, 'trainingStep') }),
    summary: t.string({ description: 'What it does, in words: "roll back to step 380", "lower the learning rate 10x".', resolve: (r) => describeAction(r) }),
    reason: t.string({ nullable: true, description: 'Why, in one line (null for a remedy chosen by hand).', resolve: (r) => r.reason }),
    confidence: t.float({ nullable: true, description: 'How sure the rules are, 0.5-1 (null for a remedy chosen by hand).', resolve: (r) => r.confidence }),
  }),
});

const RemedyResultRef = builder.objectRef<RemedyResult>('RemedyResult').implement({
  description: 'What the observer did with one chosen remedy.',
  fields: (t) => ({
    kind: t.field({ type: RemedyKindEnum, resolve: (r) => r.kind }),
    applied: t.exposeBoolean('applied'),
    detail: t.exposeString('detail', { nullable: true, description: 'How, or why not.' }),
  }),
});

const RemedyApplicationRef = builder.objectRef<RemedyApplicationView>('RemedyApplication').implement({
  description: 'Remedies chosen with one resume: who chose what, when, at which step, and what the observer made of them.',
  fields: (t) => ({
    id: t.exposeInt('id'),
    sessionId: t.exposeInt('sessionId'),
    statusVersion: t.exposeInt('statusVersion', { description: 'The status version the resume produced (the `version` of its status event).' }),
    stepIndex: t.exposeInt('stepIndex', { nullable: true, description: 'The newest step recorded when they were chosen.' }),
    remedies: t.field({ type: [RemedyRef], description: 'In the order an observer applies them.', resolve: (a) => a.remedies }),
    chosenBy: t.exposeString('chosenBy', { description: '`open` (auth off), `admin` (the admin token) or `key:<id>`.' }),
    source: t.exposeString('source', { nullable: true, description: 'What the client said it is: dashboard, trainer, observer:timeout...' }),
    issueKeys: t.exposeStringList('issueKeys', { description: 'The issues (rule@layer) the resume went past.' }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    report: t.field({ type: [RemedyResultRef], nullable: true, description: "The observer's report; null until it sends one.", resolve: (a) => a.report }),
    reportedAt: t.expose('reportedAt', { type: 'DateTime', nullable: true }),
  }),
});

/** A remedy to apply with a resume: `kind` and the parameter it takes; `reason` and `confidence` as proposed when picked from an issue. */
export const RemedyInputRef = builder.inputType('RemedyInput', {
  fields: (t) => ({
    kind: t.field({ type: RemedyKindEnum, required: true }),
    factor: t.float(),
    maxNorm: t.float(),
    toStep: t.int({ description: 'rollback: omitted or null goes to the last good state the diagnostics named; -1 to the state the run started with.' }),
    atStep: t.int(),
    trainingStep: t.int(),
    reason: t.string(),
    confidence: t.float(),
  }),
});

const RemedyResultInput = builder.inputType('RemedyResultInput', {
  fields: (t) => ({
    kind: t.field({ type: RemedyKindEnum, required: true }),
    applied: t.boolean({ required: true }),
    detail: t.string({ description: 'How, or why not (e.g. "no snapshot at or before step 380").' }),
  }),
});

builder.objectField(IssueRef, 'remedies', (t) =>
  t.field({ type: [RemedyRef], description: 'What to do to the live training (none for most issues): pass them to `sessionAction(action: resume, remedies:)`.', resolve: (i) => i.remedies }),
);

builder.objectField(StatusEventRef, 'remedies', (t) =>
  t.field({
    type: RemedyApplicationRef,
    nullable: true,
    description: 'The remedies chosen with the resume that produced this change (also on the current status while that resume is the latest change); null otherwise. Apply them before the next step, then `reportRemedies`.',
    resolve: (e) => e.remedies ?? null,
  }),
);

builder.objectField(SessionRef, 'remedies', (t) =>
  t.field({
    type: [RemedyApplicationRef],
    description: 'Remedies chosen with resumes, oldest first, after the application id `after`, at most `first` (1 to 1000, default 100).',
    args: { first: t.arg.int(), after: t.arg.int() },
    resolve: async (s, args, { services }) => (await services.remedies.list(s.id, args)).items,
  }),
);

builder.mutationFields((t) => ({
  reportRemedies: t.field({
    type: RemedyApplicationRef,
    description: 'The observer says what it applied of the remedies of one resume and what it could not (a later report replaces an earlier one).',
    args: {
      sessionId: t.arg.int({ required: true }),
      applicationId: t.arg.int({ required: true }),
      results: t.arg({ type: [RemedyResultInput], required: true }),
    },
    resolve: (_r, { sessionId, applicationId, results }, { services }) => services.remedies.report(sessionId, applicationId, parseReport({ results })),
  }),
}));
