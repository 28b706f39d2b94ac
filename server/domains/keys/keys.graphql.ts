import { builder } from '../../graphql/builder.ts';
import type { ApiKeyView } from './keys.service.ts';
import { parseKey } from './keys.schemas.ts';

const ScopeEnum = builder.enumType('ApiKeyScope', {
  description: '`read`: queries, subscriptions and exports. `write`: also steps, logs, models, sessions and actions.',
  values: ['read', 'write'] as const,
});

const ApiKeyRef = builder.objectRef<ApiKeyView>('ApiKey').implement({
  description: 'An API key, without its secret (shown once, at creation).',
  fields: (t) => ({
    id: t.exposeInt('id'),
    projectId: t.exposeInt('projectId', { nullable: true, description: 'The project the key opens; null for every project (with `write`, an admin key).' }),
    scope: t.field({ type: ScopeEnum, resolve: (k) => k.scope }),
    name: t.exposeString('name', { nullable: true }),
    prefix: t.exposeString('prefix', { description: 'The start of the secret, to tell keys apart.' }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    revokedAt: t.expose('revokedAt', { type: 'DateTime', nullable: true }),
  }),
});

const CreatedKey = builder.objectRef<{ key: ApiKeyView; secret: string }>('CreatedApiKey').implement({
  fields: (t) => ({
    key: t.field({ type: ApiKeyRef, resolve: (c) => c.key }),
    secret: t.exposeString('secret', { description: 'The secret: shown this once, stored only as a hash.' }),
  }),
});

builder.queryFields((t) => ({
  apiKeys: t.field({ type: [ApiKeyRef], description: 'Every API key, revoked ones too (admin only).', resolve: (_r, _a, { services }) => services.keys.list() }),
}));

builder.mutationFields((t) => ({
  createApiKey: t.field({
    type: CreatedKey,
    description: 'Creates an API key for one project (or, with `projectId: null`, every project). Admin only.',
    args: { projectId: t.arg.int(), scope: t.arg({ type: ScopeEnum, required: true }), name: t.arg.string() },
    resolve: (_r, { projectId, scope, name }, { services }) => services.keys.create(parseKey({ projectId: projectId ?? null, scope, name })),
  }),
  revokeApiKey: t.field({
    type: ApiKeyRef,
    description: "Revokes a key at once: its requests get 401 and its open WebSockets close with 4403, on every replica. Admin only.",
    args: { id: t.arg.int({ required: true }) },
    resolve: (_r, { id }, { services }) => services.keys.revoke(id),
  }),
}));
