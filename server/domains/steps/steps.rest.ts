import type { Route } from '../../rest/router.ts';
import { intQuery } from '../../rest/router.ts';
import type { Services } from '../../services.ts';
import { toStepRecord } from '../mappers.ts';
import type { StepView } from '../views.ts';
import { parseStep, parseSteps } from './steps.schemas.ts';

/** A stored step as the seed's record, with its ids. */
const stepJson = (v: StepView) => ({ id: v.id, session_id: v.sessionId, ...toStepRecord(v), created_at: v.createdAt.toISOString() });

export const stepRoutes = (s: Services): Route[] => [
  {
    method: 'POST',
    path: '/sessions/:session_id/step',
    handler: async ({ params, body }) => stepJson((await s.steps.record(params.session_id!, parseStep(body))).step),
  },
  {
    method: 'POST',
    path: '/sessions/:session_id/steps',
    handler: async ({ params, body }) => (await s.steps.recordMany(params.session_id!, parseSteps(body))).map((r) => ({ ...stepJson(r.step), created: r.created })),
  },
  {
    method: 'GET',
    path: '/sessions/:session_id/steps',
    handler: async ({ params, query }) => {
      const page = await s.steps.list(params.session_id!, { first: intQuery(query, 'limit'), after: intQuery(query, 'after') });
      return { items: page.items.map(stepJson), next_cursor: page.nextCursor };
    },
  },
];
