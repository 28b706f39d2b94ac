import type { ChosenRemedy, Remedy } from '../../diagnostics/remedy.ts';
import type { JsonValue } from '../../lib/extended-json.ts';
import { intQuery, type Route } from '../../rest/router.ts';
import type { Services } from '../../services.ts';
import type { RemedyApplicationView } from '../views.ts';
import { parseReport } from './remedies.schemas.ts';

/** The seed's snake_case names of remedy parameters → the service's camelCase. */
const FROM_SNAKE: Readonly<Record<string, string>> = { max_norm: 'maxNorm', to_step: 'toStep', at_step: 'atStep', training_step: 'trainingStep' };

/**
 * Remedies as a REST client sends them (`{"kind": "clip_gradients", "max_norm": 1}`) → the
 * service's input; camelCase keys pass as they are, anything else is left for validation to name.
 */
export function remediesFromJson(v: JsonValue | undefined): unknown {
  if (!Array.isArray(v)) return v;
  return v.map((r) =>
    r !== null && typeof r === 'object' && !Array.isArray(r) ? Object.fromEntries(Object.entries(r).map(([k, x]) => [FROM_SNAKE[k] ?? k, x])) : r,
  );
}

/** A remedy in the seed's snake_case. */
export function remedyJson(r: Remedy | ChosenRemedy) {
  const words = { reason: r.reason, confidence: r.confidence };
  switch (r.kind) {
    case 'scale_learning_rate':
      return { kind: r.kind, factor: r.factor, ...words };
    case 'clip_gradients':
      return { kind: r.kind, max_norm: r.maxNorm, ...words };
    case 'rollback':
      return { kind: r.kind, to_step: r.toStep, ...words };
    case 'skip_batch':
      return { kind: r.kind, at_step: r.atStep, training_step: r.trainingStep, ...words };
  }
}

/** Remedies chosen with one resume, snake_case. */
const applicationJson = (a: RemedyApplicationView) => ({
  id: a.id,
  session_id: a.sessionId,
  status_version: a.statusVersion,
  step_index: a.stepIndex,
  remedies: a.remedies.map(remedyJson),
  chosen_by: a.chosenBy,
  source: a.source,
  issue_keys: a.issueKeys,
  created_at: a.createdAt.toISOString(),
  report: a.report,
  reported_at: a.reportedAt?.toISOString() ?? null,
});

export const remedyRoutes = (s: Services): Route[] => [
  {
    method: 'GET',
    path: '/sessions/:session_id/remedies',
    handler: async ({ params, query }) => {
      await s.sessions.status(params.session_id!);
      const page = await s.remedies.list(params.session_id!, { first: intQuery(query, 'limit'), after: intQuery(query, 'after') });
      return { items: page.items.map(applicationJson), next_cursor: page.nextCursor };
    },
  },
  {
    method: 'POST',
    path: '/sessions/:session_id/remedies/:application_id/report',
    handler: async ({ params, body }) => applicationJson(await s.remedies.report(params.session_id!, params.application_id!, parseReport(body))),
  },
];
