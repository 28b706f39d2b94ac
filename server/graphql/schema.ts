import { GRAPHQL_RULES } from '../auth/rules.ts';
import { builder } from './builder.ts';
import { guardRootFields } from './guard.ts';
import '../domains/projects/projects.graphql.ts';
import '../domains/sessions/sessions.graphql.ts';
import '../domains/steps/steps.graphql.ts';
import '../domains/logs/logs.graphql.ts';
import '../domains/diagnostics/diagnostics.graphql.ts';
import '../domains/remedies/remedies.graphql.ts';
import '../domains/keys/keys.graphql.ts';

/** The whole GraphQL schema, built once from every domain's types, each root field behind its access rule. */
export const schema = guardRootFields(builder.toSchema({ sortSchema: false }), GRAPHQL_RULES);
