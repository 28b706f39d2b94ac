import { builder } from './builder.ts';
import '../domains/projects/projects.graphql.ts';
import '../domains/sessions/sessions.graphql.ts';
import '../domains/steps/steps.graphql.ts';
import '../domains/logs/logs.graphql.ts';
import '../domains/diagnostics/diagnostics.graphql.ts';

/** The whole GraphQL schema, built once from every domain's types. */
export const schema = builder.toSchema({ sortSchema: false });
