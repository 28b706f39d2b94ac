/**
 * The web app's `graphql()` tag: every document it sends is typed from `schema.graphql` by
 * gql.tada, through the introspection in `graphql-env.d.ts` (`npm run schema:print` writes
 * both; a test fails when either is stale).
 *
 * gql.tada alone types a field the schema lacks as `unknown` (its editor plugin is what
 * reports it). Every scalar here has a type, so `unknown` in a result can only be such a
 * field: this tag then returns an error type naming it, which no query, hook or fragment list
 * accepts. A field renamed in the schema fails `tsc`, e.g. `Argument of type
 * '{ "fields not in schema.graphql": "session.steps.loss.trainMean"; }' is not assignable...`.
 */
import { initGraphQLTada, type ResultOf } from 'gql.tada';
import type { introspection } from './graphql-env.d.ts';

/** Any JSON value: what the `JSON` scalar carries (free-form channels, configs, architectures). */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** A JSON object (see {@link asObject}). */
export type JsonObject = { [key: string]: Json };

/** A `Metric`: a number, or NaN and ±Infinity as the strings JSON has to use for them. */
export type MetricValue = number | 'NaN' | 'Infinity' | '-Infinity';

/** gql.tada's tag for this schema. Fragments are unmasked: their fields read as part of the selection that spreads them. */
const tada = initGraphQLTada<{
  introspection: introspection;
  scalars: { DateTime: string; JSON: Json; Metric: MetricValue };
  disableMasking: true;
}>();

type Fragments = NonNullable<Parameters<typeof tada>[1]>;
/** One signature (the tag itself is overloaded), so its result can be named per input below. */
const tadaDocument = <const In extends string, const F extends Fragments = []>(input: In, fragments?: F) => tada(input, fragments);
type TadaDocument<In extends string, F extends Fragments> = ReturnType<typeof tadaDocument<In, F>>;

/** The dotted paths of a result's `unknown` fields (JSON scalars are typed, not unknown). */
export type UnknownFields<T, Path extends string = ''> = unknown extends T
  ? Path
  : Json extends T
    ? never
    : T extends readonly (infer E)[]
      ? UnknownFields<E, Path>
      : T extends object
        ? { [K in keyof T & string]-?: UnknownFields<T[K], Path extends '' ? K : `${Path}.${K}`> }[keyof T & string]
        : never;

/** A document, or, when it selects fields the schema lacks, an error type that names them. */
export type Checked<D> = [UnknownFields<ResultOf<D>>] extends [never] ? D : { 'fields not in schema.graphql': UnknownFields<ResultOf<D>> };

/** Typed documents (see the module's comment). */
export const graphql = tada as unknown as <const In extends string, const F extends Fragments = []>(input: In, fragments?: F) => Checked<TadaDocument<In, F>>;

export type { FragmentOf, ResultOf, VariablesOf } from 'gql.tada';

/** `v` when it is a JSON object (not an array, not null), else null. */
export function asObject(v: Json | undefined): JsonObject | null {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? v : null;
}
