import { intQuery, type Route } from '../../rest/router.ts';
import type { Services } from '../../services.ts';
import { sessionJson } from '../sessions/sessions.rest.ts';
import type { ProjectView } from '../views.ts';
import { parseProject } from './projects.schemas.ts';

const projectJson = (p: ProjectView) => ({ id: p.id, name: p.name, created_at: p.createdAt.toISOString() });

export const projectRoutes = (s: Services): Route[] => [
  {
    method: 'GET',
    path: '/projects',
    handler: async ({ query }) => (await s.projects.list({ first: intQuery(query, 'limit'), after: intQuery(query, 'after') })).map(projectJson),
  },
  { method: 'POST', path: '/projects', handler: async ({ body }) => projectJson(await s.projects.create(parseProject(body))) },
  { method: 'GET', path: '/projects/:project_id', handler: async ({ params }) => projectJson(await s.projects.get(params.project_id!)) },
  {
    method: 'GET',
    path: '/projects/:project_id/sessions',
    handler: async ({ params, query }) => {
      await s.projects.get(params.project_id!);
      return (await s.sessions.ofProject(params.project_id!, { first: intQuery(query, 'limit'), after: intQuery(query, 'before') })).map(sessionJson);
    },
  },
];
