import type { Route } from '../../rest/router.ts';
import { intQuery } from '../../rest/router.ts';
import type { Services } from '../../services.ts';
import { remedyJson } from '../remedies/remedies.rest.ts';
import type { DiagnosticRunView } from '../views.ts';

export const runJson = (r: DiagnosticRunView) => ({
  id: r.id,
  session_id: r.sessionId,
  step_index: r.stepIndex,
  health_score: r.healthScore,
  issue_count: r.issueCount,
  verdict: r.verdict,
  created_at: r.createdAt.toISOString(),
  issues: r.issues.map((i) => ({
    id: i.id,
    code: i.code,
    severity: i.severity,
    category: i.category,
    title: i.title,
    description: i.description,
    suggestion: i.suggestion,
    confidence: i.confidence,
    layer_id: i.layerId,
    epoch_index: i.epochIndex,
    metric_value: i.metricValue,
    remedies: i.remedies.map(remedyJson),
  })),
});

export const diagnosticRoutes = (s: Services): Route[] => [
  {
    method: 'GET',
    path: '/sessions/:session_id/diagnostics',
    handler: async ({ params, query }) => {
      const page = await s.diagnostics.runs(params.session_id!, { first: intQuery(query, 'limit'), after: intQuery(query, 'before') });
      return { items: page.items.map(runJson), next_cursor: page.nextCursor };
    },
  },
];
