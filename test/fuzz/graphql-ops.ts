import fc from 'fast-check';
import {
  getNamedType,
  isEnumType,
  isInputObjectType,
  isLeafType,
  isListType,
  isNonNullType,
  isObjectType,
  isScalarType,
  type GraphQLArgument,
  type GraphQLField,
  type GraphQLInputType,
  type GraphQLObjectType,
  type GraphQLSchema,
} from 'graphql';
import { deepText, edgeInteger, edgeJson, edgeNumber, edgeString, type Json } from './values.ts';

/** A generated GraphQL request: the document, its variables, and how it travels. */
export interface GeneratedOperation {
  kind: 'query' | 'mutation' | 'subscription';
  field: string;
  query: string;
  /** As JSON text: deep values are written as text, and some of them are not even JSON. */
  variablesText: string | null;
}

/** The ids the fuzz server holds, so that some generated ids hit real rows. */
export interface KnownIds {
  projects: number[];
  sessions: number[];
}

type Value = { literal: string; json: string };

const lit = (literal: string, json: string): Value => ({ literal, json });

/** A value of the right type most of the time, a wrong one otherwise; as a GraphQL literal and as JSON. */
function valueFor(type: GraphQLInputType, ids: KnownIds, depth: number): fc.Arbitrary<Value> {
  const wrong = fc.oneof(
    fc.constant(lit('null', 'null')),
    edgeString.map((s) => lit(JSON.stringify(s), JSON.stringify(s))),
    edgeInteger.map((n) => lit(String(n), String(n))),
    fc.constant(lit('[1, 2]', '[1, 2]')),
    fc.constant(lit('{a: 1}', '{"a": 1}')),
    fc.constant(lit('1.5', '1.5')),
  );
  if (isNonNullType(type)) return fc.oneof({ weight: 6, arbitrary: valueFor(type.ofType, ids, depth) }, { weight: 1, arbitrary: fc.constant(lit('null', 'null')) });
  if (isListType(type)) {
    if (depth > 3) return fc.constant(lit('[]', '[]'));
    return fc.oneof(
      { weight: 5, arbitrary: fc.array(valueFor(type.ofType, ids, depth + 1), { maxLength: 4 }).map((vs) => lit(`[${vs.map((v) => v.literal).join(', ')}]`, `[${vs.map((v) => v.json).join(', ')}]`)) },
      { weight: 1, arbitrary: valueFor(type.ofType, ids, depth + 1) },
      { weight: 1, arbitrary: fc.nat({ max: 3000 }).map((n) => lit(`[${Array(n).fill('1').join(',')}]`, `[${Array(n).fill('1').join(',')}]`)) },
    );
  }
  const named = getNamedType(type);
  if (isEnumType(named)) {
    const values = named.getValues().map((v) => v.name);
    return fc.oneof(
      { weight: 5, arbitrary: fc.constantFrom(...values).map((v) => lit(v, JSON.stringify(v))) },
      { weight: 1, arbitrary: fc.constantFrom('NOPE', 'running ', 'RUNNING').map((v) => lit(v, JSON.stringify(v))) },
      { weight: 1, arbitrary: wrong },
    );
  }
  if (isInputObjectType(named)) {
    if (depth > 3) return fc.constant(lit('{}', '{}'));
    const fields = Object.values(named.getFields());
    return fc
      .tuple(
        ...fields.map((f) => fc.option(valueFor(f.type, ids, depth + 1), { freq: isNonNullType(f.type) ? 8 : 2 })),
        fc.option(fc.constant(lit('1', '1')), { freq: 8 }),
      )
      .map((vs) => {
        const entries = fields.flatMap((f, i) => (vs[i] ? [[f.name, vs[i]!] as const] : []));
        const unknown = vs[fields.length] ? [['notAField', vs[fields.length]!] as const] : [];
        const all = [...entries, ...unknown];
        return lit(`{${all.map(([k, v]) => `${k}: ${v.literal}`).join(', ')}}`, `{${all.map(([k, v]) => `${JSON.stringify(k)}: ${v.json}`).join(', ')}}`);
      });
  }
  if (!isScalarType(named)) return wrong;
  switch (named.name) {
    case 'Int':
      return fc.oneof(
        { weight: 3, arbitrary: fc.constantFrom(...ids.sessions, ...ids.projects).map((n) => lit(String(n), String(n))) },
        { weight: 3, arbitrary: edgeInteger.map((n) => lit(String(n), String(n))) },
        { weight: 1, arbitrary: wrong },
      );
    case 'Float':
    case 'Metric':
      return fc.oneof(
        edgeNumber.filter(Number.isFinite).map((n) => lit(String(n), String(n))),
        fc.constantFrom('"NaN"', '"Infinity"', '"-Infinity"', '"nan"', '1e400').map((s) => lit(s, s)),
        wrong,
      );
    case 'Boolean':
      return fc.oneof({ weight: 3, arbitrary: fc.boolean().map((b) => lit(String(b), String(b))) }, { weight: 1, arbitrary: wrong });
    case 'DateTime':
      return fc.constantFrom('"2026-02-21T10:30:00Z"', '"not a date"', '"+275760-09-13T00:00:00Z"', '""', '0').map((s) => lit(s, s));
    case 'JSON':
      return fc.oneof(
        { weight: 4, arbitrary: edgeJson.map(jsonValue) },
        { weight: 1, arbitrary: fc.constantFrom(60, 64, 65, 200, 5000).map((d) => lit(literalDeep(Math.min(d, 90)), deepText(d))) },
        { weight: 1, arbitrary: fc.constant(lit('{__proto__: {a: 1}}', '{"__proto__": {"a": 1}}')) },
      );
    default:
      return fc.oneof({ weight: 3, arbitrary: edgeString.map((s) => lit(graphqlString(s), JSON.stringify(s))) }, { weight: 1, arbitrary: wrong });
  }
}

/** A JSON value as a GraphQL literal (keys that are not GraphQL names are quoted away into a list). */
function jsonValue(v: Json): Value {
  return lit(jsonLiteral(v), jsonText(v));
}

function jsonText(v: Json): string {
  if (typeof v === 'number' && !Number.isFinite(v)) return JSON.stringify(String(v));
  if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? 'null';
  if (Array.isArray(v)) return `[${v.map(jsonText).join(',')}]`;
  return `{${Object.keys(v)
    .map((k) => `${JSON.stringify(k)}:${jsonText(v[k]!)}`)
    .join(',')}}`;
}

function jsonLiteral(v: Json): string {
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : JSON.stringify(String(v));
  if (typeof v === 'string') return graphqlString(v);
  if (v === null || typeof v !== 'object') return String(v);
  if (Array.isArray(v)) return `[${v.map(jsonLiteral).join(', ')}]`;
  const keys = Object.keys(v).filter((k) => /^[_A-Za-z][_0-9A-Za-z]*$/.test(k));
  return `{${keys.map((k) => `${k}: ${jsonLiteral(v[k]!)}`).join(', ')}}`;
}

/** A GraphQL string literal: JSON's escapes, which GraphQL shares. */
const graphqlString = (s: string) => JSON.stringify(s);

function literalDeep(depth: number): string {
  return `${'{a: '.repeat(depth)}1${'}'.repeat(depth)}`;
}

/** A selection of `type`'s fields: leaves, and a level or two of nested objects with generated arguments. */
function selectionFor(type: GraphQLObjectType, ids: KnownIds, depth: number): fc.Arbitrary<string> {
  const fields = Object.values(type.getFields());
  const leaves = fields.filter((f) => isLeafType(getNamedType(f.type)) && !f.args.some((a) => isNonNullType(a.type)));
  const objects = depth < 2 ? fields.filter((f) => isObjectType(getNamedType(f.type))) : [];
  const leafPick = leaves.length ? fc.subarray(leaves.map((f) => f.name), { minLength: 1 }) : fc.constant(['__typename']);
  const objectPick = objects.length ? fc.subarray(objects, { maxLength: Math.min(2, objects.length) }) : fc.constant([] as GraphQLField<unknown, unknown>[]);
  return fc.tuple(leafPick, objectPick).chain(([names, objs]) =>
    fc
      .tuple(...objs.map((f) => fc.tuple(argumentsFor(f.args, ids), selectionFor(getNamedType(f.type) as GraphQLObjectType, ids, depth + 1))))
      .map((nested) => `{ ${[...names, ...nested.map(([args, sel], i) => `${objs[i]!.name}${args.literal} ${sel}`)].join(' ')} }`),
  );
}

function argumentsFor(args: readonly GraphQLArgument[], ids: KnownIds): fc.Arbitrary<{ literal: string }> {
  if (!args.length) return fc.constant({ literal: '' });
  return fc
    .tuple(...args.map((a) => fc.option(valueFor(a.type, ids, 0), { freq: isNonNullType(a.type) ? 10 : 2 })))
    .map((vs) => {
      const parts = args.flatMap((a, i) => (vs[i] ? [`${a.name}: ${vs[i]!.literal}`] : []));
      return { literal: parts.length ? `(${parts.join(', ')})` : '' };
    });
}

/** An operation on one root field, its arguments as literals or as variables. */
export function operationArb(schema: GraphQLSchema, ids: KnownIds): fc.Arbitrary<GeneratedOperation> {
  const roots = (['query', 'mutation', 'subscription'] as const).flatMap((kind) => {
    const type = kind === 'query' ? schema.getQueryType() : kind === 'mutation' ? schema.getMutationType() : schema.getSubscriptionType();
    return type ? Object.values(type.getFields()).map((f) => ({ kind, field: f })) : [];
  });
  return fc.constantFrom(...roots).chain(({ kind, field }) => {
    const returns = getNamedType(field.type);
    const selection = isObjectType(returns) ? selectionFor(returns, ids, 0) : fc.constant('');
    const args = field.args.length
      ? fc.tuple(...field.args.map((a) => fc.option(valueFor(a.type, ids, 0), { freq: isNonNullType(a.type) ? 10 : 2 })))
      : fc.constant([] as (Value | null)[]);
    return fc.tuple(args, selection, fc.boolean()).map(([values, sel, asVariables]): GeneratedOperation => {
      const given = field.args.flatMap((a, i) => (values[i] ? [{ arg: a, value: values[i]! }] : []));
      if (asVariables && given.length) {
        const decl = given.map(({ arg }, i) => `$v${i}: ${String(arg.type)}`).join(', ');
        const call = given.map(({ arg }, i) => `${arg.name}: $v${i}`).join(', ');
        return {
          kind,
          field: field.name,
          query: `${kind} (${decl}) { ${field.name}(${call}) ${sel} }`,
          variablesText: `{${given.map(({ value }, i) => `"v${i}": ${value.json}`).join(', ')}}`,
        };
      }
      const call = given.length ? `(${given.map(({ arg, value }) => `${arg.name}: ${value.literal}`).join(', ')})` : '';
      return { kind, field: field.name, query: `${kind} { ${field.name}${call} ${sel} }`, variablesText: null };
    });
  });
}

/** Documents that are wrong as documents: broken syntax, nesting thousands deep, cycles, huge fan-out. */
export const brokenDocumentArb: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    '{',
    '}',
    '',
    'query',
    '{ projects { id }',
    '{ __typename @nope }',
    'fragment A on Project { ...A } { projects { ...A } }',
    'fragment A on Project { ...B } fragment B on Project { ...A } { projects { ...A } }',
    '{ projects { id } } { projects { id } }',
    'query A { __typename } query A { __typename }',
    'subscription { sessionStatus(sessionId: 1) { status } sessionLogs(sessionId: 1) { missedBefore } }',
    '{ session(id: "1") { id } }',
    '{ nope }',
    '"""unterminated',
    '{ __schema { types { name fields { name type { ofType { ofType { ofType { ofType { name } } } } } } } } }',
  ),
  fc.integer({ min: 10, max: 30_000 }).map((n) => `{ ${'project(id: 1) { sessions { project { '.repeat(Math.ceil(n / 3))}id${' } } }'.repeat(Math.ceil(n / 3))} }`),
  fc.integer({ min: 100, max: 30_000 }).map((n) => `{ ${'['.repeat(n)} }`),
  fc.integer({ min: 100, max: 20_000 }).map((n) => `{ projects(first: ${'['.repeat(n)}1${']'.repeat(n)}) { id } }`),
  fc.integer({ min: 100, max: 5000 }).map((n) => `{ ${Array.from({ length: n }, (_, i) => `a${i}: projects { id name }`).join(' ')} }`),
  fc.string({ maxLength: 200 }),
);
