import { builder } from '../../graphql/builder.ts';
import { IssueRef, RunRef } from '../../graphql/refs.ts';
import { SessionStatusEnum } from '../sessions/sessions.graphql.ts';

const SeverityEnum = builder.enumType('IssueSeverity', { values: ['critical', 'warning', 'info'] as const });

IssueRef.implement({
  fields: (t) => ({
    id: t.exposeInt('id'),
    code: t.exposeString('code', { description: 'The rule that raised it, e.g. loss.non_finite.' }),
    severity: t.field({ type: SeverityEnum, resolve: (i) => i.severity }),
    category: t.exposeString('category', { description: 'loss, throughput, memory, profiler, logs, system, architecture, sustainability or layer_health' }),
    title: t.exposeString('title'),
    description: t.exposeString('description'),
    suggestion: t.exposeString('suggestion'),
    confidence: t.exposeFloat('confidence', {
      nullable: true,
      description: 'How sure the rule is, 0.5-1: 0.5 when the evidence just crosses its threshold, 1 when it is decisive or a fact (a NaN). Null for issues stored before rules said.',
    }),
    layerId: t.exposeString('layerId', { nullable: true }),
    epochIndex: t.exposeInt('epochIndex', { nullable: true }),
    metricValue: t.expose('metricValue', { type: 'JSON', nullable: true }),
  }),
});

RunRef.implement({
  fields: (t) => ({
    id: t.exposeInt('id'),
    sessionId: t.exposeInt('sessionId'),
    stepIndex: t.exposeInt('stepIndex', { nullable: true, description: 'The newest step judged; null for the run at model registration.' }),
    healthScore: t.exposeInt('healthScore'),
    issueCount: t.exposeInt('issueCount'),
    verdict: t.field({ type: SessionStatusEnum, resolve: (r) => r.verdict }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    issues: t.field({ type: [IssueRef], resolve: (r) => r.issues }),
  }),
});
