import SchemaBuilder from '@pothos/core';
import { GraphQLError, Kind, type ValueNode } from 'graphql';
import { assertJsonShape, decodeNonFinite, encodeNonFinite, JsonDepthError, MAX_JSON_DEPTH } from '../lib/extended-json.ts';
import type { Principal } from '../auth/principal.ts';
import type { Services } from '../services.ts';

/** What every resolver gets: the service layer (and through it the pubsub), and who is asking. */
export interface GraphQLContext {
  services: Services;
  /** Decided once per HTTP request or WebSocket connection; root fields check it (`guard.ts`). */
  principal: Principal;
}

/** The one Pothos builder; each domain adds its types in `<domain>.graphql.ts`. */
export const builder = new SchemaBuilder<{
  Context: GraphQLContext;
  DefaultFieldNullability: false;
  Scalars: {
    DateTime: { Input: Date; Output: Date };
    JSON: { Input: unknown; Output: unknown };
    Metric: { Input: number; Output: number };
  };
}>({ defaultFieldNullability: false });

const NON_FINITE = ['NaN', 'Infinity', '-Infinity'];

function metricFrom(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && NON_FINITE.includes(v)) return Number(v);
  throw new GraphQLError(`Metric must be a number or one of "NaN", "Infinity", "-Infinity"; got ${JSON.stringify(v)}`, {
    extensions: { code: 'BAD_USER_INPUT' },
  });
}

builder.scalarType('Metric', {
  description:
    'A float that may be non-finite. JSON has no NaN, so NaN, Infinity and -Infinity travel as the strings "NaN", "Infinity" and "-Infinity", in both directions.',
  serialize: (v) => (Number.isFinite(v) ? v : String(v)),
  parseValue: metricFrom,
  parseLiteral: (ast) => {
    if (ast.kind === Kind.FLOAT || ast.kind === Kind.INT) return Number(ast.value);
    if (ast.kind === Kind.STRING) return metricFrom(ast.value);
    throw new GraphQLError('Metric must be a number or "NaN"/"Infinity"/"-Infinity"', { extensions: { code: 'BAD_USER_INPUT' } });
  },
});

function literal(ast: ValueNode): unknown {
  switch (ast.kind) {
    case Kind.INT:
    case Kind.FLOAT:
      return Number(ast.value);
    case Kind.STRING:
    case Kind.BOOLEAN:
      return ast.value;
    case Kind.NULL:
      return null;
    case Kind.LIST:
      return ast.values.map(literal);
    case Kind.OBJECT:
      return Object.fromEntries(ast.fields.map((f) => [f.name.value, literal(f.value)]));
    default:
      throw new GraphQLError('JSON literals cannot hold variables', { extensions: { code: 'BAD_USER_INPUT' } });
  }
}

/** A JSON input checked like a REST body: at most 64 levels deep, no `__proto__` key. */
function jsonInput(v: unknown): unknown {
  try {
    assertJsonShape(v);
  } catch (err) {
    if (!(err instanceof JsonDepthError)) throw err;
    throw new GraphQLError(`JSON value is not accepted: ${err.detail}`, { extensions: { code: 'BAD_USER_INPUT' } });
  }
  return decodeNonFinite(v);
}

builder.scalarType('JSON', {
  description: `Any JSON value, nested at most ${MAX_JSON_DEPTH} levels deep (objects and arrays), without a "__proto__" key. Non-finite numbers inside it are written as the strings "NaN", "Infinity" and "-Infinity", and those strings are read back as numbers.`,
  serialize: (v) => encodeNonFinite(v),
  parseValue: jsonInput,
  parseLiteral: (ast) => jsonInput(literal(ast)),
});

builder.scalarType('DateTime', {
  description: 'An ISO 8601 date-time in UTC.',
  serialize: (v) => (v instanceof Date ? v.toISOString() : new Date(v as string).toISOString()),
  parseValue: (v) => {
    const d = new Date(v as string);
    if (typeof v !== 'string' || Number.isNaN(d.getTime()))
      throw new GraphQLError('DateTime must be an ISO 8601 string', { extensions: { code: 'BAD_USER_INPUT' } });
    return d;
  },
});

builder.queryType({});
builder.mutationType({});
builder.subscriptionType({});
