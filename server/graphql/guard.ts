import { defaultFieldResolver, type GraphQLFieldResolver, type GraphQLObjectType, type GraphQLSchema } from 'graphql';
import type { Rule } from '../auth/access.ts';
import type { GraphQLContext } from './builder.ts';

type Rules = Readonly<Record<'Query' | 'Mutation' | 'Subscription', Readonly<Record<string, Rule>>>>;

/**
 * Puts the access guard in front of every root field (queries and mutations on `resolve`,
 * subscriptions on `subscribe`): fields below a root field are reached only through it, so
 * they need no check of their own. Throws when a root field has no rule.
 */
export function guardRootFields(schema: GraphQLSchema, rules: Rules): GraphQLSchema {
  const roots: [keyof Rules, GraphQLObjectType | null | undefined][] = [
    ['Query', schema.getQueryType()],
    ['Mutation', schema.getMutationType()],
    ['Subscription', schema.getSubscriptionType()],
  ];
  for (const [name, type] of roots) {
    if (!type) continue;
    for (const field of Object.values(type.getFields())) {
      const rule = rules[name][field.name];
      if (!rule) throw new Error(`GraphQL field ${name}.${field.name} has no access rule in server/auth/rules.ts`);
      const guarded = (inner: GraphQLFieldResolver<unknown, GraphQLContext>): GraphQLFieldResolver<unknown, GraphQLContext> =>
        (source, args: Record<string, unknown>, ctx, info) => ctx.services.access.run(ctx.principal, rule, args, (a) => inner(source, a, ctx, info));
      if (name === 'Subscription') field.subscribe = guarded((field.subscribe ?? defaultFieldResolver) as GraphQLFieldResolver<unknown, GraphQLContext>);
      else field.resolve = guarded((field.resolve ?? defaultFieldResolver) as GraphQLFieldResolver<unknown, GraphQLContext>);
    }
  }
  return schema;
}
