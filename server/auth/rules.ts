import type { Rule } from './access.ts';

/**
 * Every door's access rule, in one table per transport. The router refuses to start with a
 * REST route missing here, the schema guard with a GraphQL root field missing here, and the
 * authorization matrix test (test/auth-matrix.e2e.test.ts) is generated from both.
 */
const read = (on: Rule['on']): Rule => ({ need: 'read', on });
const write = (on: Rule['on']): Rule => ({ need: 'write', on });
const admin: Rule = { need: 'admin', on: { global: true } };

/** REST routes, keyed `METHOD path` as the route tables spell them. */
export const REST_RULES: Readonly<Record<string, Rule>> = {
  'GET /projects': read({ projectList: { after: 'after', first: 'limit' } }),
  'POST /projects': admin,
  'GET /projects/:project_id': read({ project: 'project_id' }),
  'GET /projects/:project_id/sessions': read({ project: 'project_id' }),
  'POST /sessions/project/:project_id': write({ project: 'project_id' }),
  'GET /sessions/:session_id': read({ session: 'session_id' }),
  'POST /sessions/:session_id/model': write({ session: 'session_id' }),
  'GET /sessions/:session_id/model': read({ session: 'session_id' }),
  'GET /sessions/:session_id/status': read({ session: 'session_id' }),
  'POST /sessions/:session_id/action': write({ session: 'session_id' }),
  'POST /sessions/:session_id/step': write({ session: 'session_id' }),
  'POST /sessions/:session_id/steps': write({ session: 'session_id' }),
  'GET /sessions/:session_id/steps': read({ session: 'session_id' }),
  'POST /sessions/:session_id/log': write({ session: 'session_id' }),
  'GET /sessions/:session_id/logs': read({ session: 'session_id' }),
  'GET /sessions/:session_id/diagnostics': read({ session: 'session_id' }),
  'GET /sessions/:session_id/remedies': read({ session: 'session_id' }),
  'POST /sessions/:session_id/remedies/:application_id/report': write({ session: 'session_id' }),
};

/** GraphQL root fields by root type. Nested fields inherit their root field's check. */
export const GRAPHQL_RULES: Readonly<Record<'Query' | 'Mutation' | 'Subscription', Readonly<Record<string, Rule>>>> = {
  Query: {
    projects: read({ projectList: { after: 'after', first: 'first' } }),
    project: read({ project: 'id' }),
    session: read({ session: 'id' }),
    sessions: read({ sessionList: 'projectId' }),
    apiKeys: admin,
  },
  Mutation: {
    createProject: admin,
    createSession: write({ project: 'projectId' }),
    registerModel: write({ session: 'sessionId' }),
    sessionAction: write({ session: 'sessionId' }),
    recordStep: write({ session: 'sessionId' }),
    recordSteps: write({ session: 'sessionId' }),
    pushLogs: write({ session: 'sessionId' }),
    reportRemedies: write({ session: 'sessionId' }),
    createApiKey: admin,
    revokeApiKey: admin,
  },
  Subscription: {
    sessionCreated: read({ sessionStream: true }),
    sessionStatus: read({ session: 'sessionId' }),
    sessionSteps: read({ session: 'sessionId' }),
    sessionLogs: read({ session: 'sessionId' }),
  },
};
