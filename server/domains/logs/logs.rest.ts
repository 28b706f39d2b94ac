import type { Route } from '../../rest/router.ts';
import { intQuery } from '../../rest/router.ts';
import type { Services } from '../../services.ts';
import type { LogView } from '../views.ts';
import { parseLog, parseLogs } from './logs.schemas.ts';

const logJson = (l: LogView) => ({
  id: l.id,
  session_id: l.sessionId,
  ts: l.ts,
  level: l.level,
  msg: l.msg,
  module: l.module,
  lineno: l.lineno,
  kind: l.kind,
  created_at: l.createdAt.toISOString(),
});

export const logRoutes = (s: Services): Route[] => [
  {
    method: 'POST',
    path: '/sessions/:session_id/log',
    // One line as the seed sends it, or a list of lines.
    handler: async ({ params, body }) =>
      Array.isArray(body) ? (await s.logs.pushMany(params.session_id!, parseLogs(body))).map(logJson) : logJson(await s.logs.push(params.session_id!, parseLog(body))),
  },
  {
    method: 'GET',
    path: '/sessions/:session_id/logs',
    handler: async ({ params, query }) => {
      const levels = query.get('level')?.split(',').filter(Boolean) ?? null;
      const page = await s.logs.list(params.session_id!, { first: intQuery(query, 'limit'), after: intQuery(query, 'after'), levels });
      return { items: page.items.map(logJson), next_cursor: page.nextCursor };
    },
  },
];
