import { actorOf } from '../../auth/principal.ts';
import { DomainError, ErrorCode } from '../../errors.ts';
import type { JsonObject, JsonValue } from '../../lib/extended-json.ts';
import type { Route } from '../../rest/router.ts';
import type { Services } from '../../services.ts';
import { runJson } from '../diagnostics/diagnostics.rest.ts';
import { remediesFromJson } from '../remedies/remedies.rest.ts';
import type { ModelView, SessionView } from '../views.ts';
import { parseAction, parseModel, parseSession } from './sessions.schemas.ts';

/** A session in the seed's snake_case shape. */
export const sessionJson = (v: SessionView) => ({
  id: v.id,
  project_id: v.projectId,
  run_id: v.runId,
  run_name: v.runName,
  started_at: v.startedAt.toISOString(),
  ended_at: v.endedAt?.toISOString() ?? null,
  device: v.device,
  cuda_available: v.cudaAvailable,
  pytorch_version: v.pytorchVersion,
  config: v.config,
  metadata: v.metadata,
  status: v.status,
});

const modelJson = (m: ModelView) => ({
  id: m.id,
  session_id: m.sessionId,
  architecture: m.architecture,
  hyperparameters: m.hyperparameters,
  created_at: m.createdAt.toISOString(),
});

const SESSION_FIELDS: Record<string, string> = {
  run_id: 'runId',
  run_name: 'runName',
  started_at: 'startedAt',
  device: 'device',
  cuda_available: 'cudaAvailable',
  pytorch_version: 'pytorchVersion',
  config: 'config',
};
/** Keys the seed sends that carry no information of their own here. */
const IGNORED = new Set(['status', 'project_id', 'metadata']);

function objectBody(body: JsonValue | undefined, what: string): JsonObject {
  if (body === null || typeof body !== 'object' || Array.isArray(body))
    throw new DomainError(ErrorCode.VALIDATION, `Invalid ${what}: expected a JSON object`);
  return body;
}

/** The seed's session metadata → the service's input; unknown keys are kept as metadata. */
function sessionInput(body: JsonValue | undefined) {
  const b = body === undefined ? {} : objectBody(body, 'session');
  const input: Record<string, JsonValue> = {};
  const metadata: JsonObject = b.metadata && typeof b.metadata === 'object' && !Array.isArray(b.metadata) ? { ...b.metadata } : {};
  for (const [k, v] of Object.entries(b)) {
    if (SESSION_FIELDS[k]) input[SESSION_FIELDS[k]] = v;
    else if (!IGNORED.has(k)) metadata[k] = v;
  }
  if (Object.keys(metadata).length) input.metadata = metadata;
  return input;
}

export const sessionRoutes = (s: Services): Route[] => [
  {
    method: 'POST',
    path: '/sessions/project/:project_id',
    handler: async ({ params, body }) => sessionJson(await s.sessions.create(params.project_id!, parseSession(sessionInput(body)))),
  },
  { method: 'GET', path: '/sessions/:session_id', handler: async ({ params }) => sessionJson(await s.sessions.get(params.session_id!)) },
  {
    method: 'POST',
    path: '/sessions/:session_id/model',
    handler: async ({ params, body }) => {
      const { model, diagnostics } = await s.sessions.registerModel(params.session_id!, parseModel(objectBody(body, 'model')));
      return { ...modelJson(model), diagnostics: runJson(diagnostics) };
    },
  },
  {
    method: 'GET',
    path: '/sessions/:session_id/model',
    handler: async ({ params }) => {
      await s.sessions.status(params.session_id!);
      const m = await s.sessions.model(params.session_id!);
      if (!m) throw new DomainError(ErrorCode.NOT_FOUND, `Session ${params.session_id} has no model registered`);
      return modelJson(m);
    },
  },
  { method: 'GET', path: '/sessions/:session_id/status', handler: async ({ params }) => s.sessions.status(params.session_id!) },
  {
    method: 'POST',
    path: '/sessions/:session_id/action',
    handler: async ({ params, body, principal }) => {
      const b = objectBody(body, 'action');
      // `remedies` and `source` are issue 15's; the seed's clients send only `action`.
      return sessionJson(await s.sessions.act(params.session_id!, parseAction({ action: b.action, remedies: remediesFromJson(b.remedies), source: b.source }), actorOf(principal)));
    },
  },
];
