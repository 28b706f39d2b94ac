import { GraphQLError } from 'graphql';
import { renderGraphiQL } from '@graphql-yoga/render-graphiql';
import { createYoga, type Plugin, type YogaServerInstance } from 'graphql-yoga';
import { WWW_AUTHENTICATE } from '../auth/access.ts';
import type { Principal } from '../auth/principal.ts';
import { isDatabaseUnavailable, RETRY_AFTER_SECONDS } from '../db/unavailable.ts';
import { isDomainError } from '../errors.ts';
import type { Services } from '../services.ts';
import type { GraphQLContext } from './builder.ts';
import { isAllowedOrigin } from '../lib/origin.ts';
import { MAX_JSON_DEPTH } from '../lib/extended-json.ts';
import { assertDocumentNesting, operationLimits } from './limits.ts';
import { schema } from './schema.ts';

const isGraphQLError = (e: unknown): e is GraphQLError => e instanceof Error && e.name === 'GraphQLError';

/** The error with `extensions.code` set (graphql-js's parse and validation errors have none). */
function withCode(e: GraphQLError, code: string): GraphQLError {
  return new GraphQLError(e.message, { nodes: e.nodes, source: e.source, positions: e.positions, path: e.path, originalError: e.originalError, extensions: { ...e.extensions, code } });
}

/** Turns expected failures into GraphQL errors with a `code`; masks everything else. */
function maskError(error: unknown, message: string, onUnexpected: (err: unknown) => void): Error {
  // Resolver errors arrive wrapped (sometimes twice) in GraphQLErrors.
  let original: unknown = error;
  // Duck-typed: a test runner may load two copies of graphql, and instanceof fails across them.
  while (typeof original === 'object' && original !== null && (original as { originalError?: unknown }).originalError)
    original = (original as { originalError: unknown }).originalError;
  if (isDomainError(original))
    return new GraphQLError(original.message, {
      ...(error instanceof GraphQLError ? { nodes: error.nodes, path: error.path } : {}),
      extensions: {
        code: original.code,
        ...(original.details ? { details: original.details } : {}),
        // A missing or bad key is the whole request's problem: HTTP 401 as over REST.
        ...(original.code === 'UNAUTHENTICATED' ? { http: { status: 401, headers: { 'www-authenticate': WWW_AUTHENTICATE } } } : {}),
      },
    });
  if (original instanceof Error && original.name === 'GraphQLError') {
    const e = original as GraphQLError;
    if (e.extensions?.code) return e;
    // graphql-js's own errors carry no code. Without a path it is the request's fault (a variable
    // that does not coerce); with one it happened while resolving a field: a bug of ours.
    if (!e.path) return withCode(e, 'BAD_USER_INPUT');
  }
  if (isDatabaseUnavailable(original))
    return new GraphQLError('The database is unavailable right now; try again shortly', {
      ...(error instanceof GraphQLError ? { nodes: error.nodes, path: error.path } : {}),
      extensions: { code: 'SERVICE_UNAVAILABLE', http: { status: 503, headers: { 'retry-after': String(RETRY_AFTER_SECONDS) } } },
    });
  onUnexpected(original);
  return new GraphQLError(message, { extensions: { code: 'INTERNAL_SERVER_ERROR' } });
}

interface YogaOptions {
  services: Services;
  maxDepth: number;
  maxCost: number;
  onUnexpected: (err: unknown) => void;
  corsOrigins: readonly string[];
}

/** The GraphQL endpoint (HTTP, with GraphiQL); WebSockets reuse it through `getEnveloped`. */
export function createGraphQL(opts: YogaOptions): YogaServerInstance<Record<string, unknown>, GraphQLContext> {
  // Selections as deep as allowed, JSON literals as deep as allowed, and room for arguments and lists.
  const nestingLimit = opts.maxDepth + MAX_JSON_DEPTH + 32;
  const limits: Plugin = {
    onParse({ params }) {
      assertDocumentNesting(typeof params.source === 'string' ? params.source : params.source.body, nestingLimit);
      return ({ result, replaceParseResult }) => {
        if (isGraphQLError(result) && !result.extensions?.code) replaceParseResult(withCode(result, 'GRAPHQL_PARSE_FAILED'));
      };
    },
    onValidate({ addValidationRule }) {
      addValidationRule(operationLimits(opts.maxDepth, opts.maxCost));
      return ({ result, setResult }) => {
        if (result.some((e) => !e.extensions?.code)) setResult(result.map((e) => (e.extensions?.code ? e : withCode(e, 'GRAPHQL_VALIDATION_FAILED'))));
      };
    },
    // A GET's `variables` or `extensions` that is not JSON is the client's mistake: 400, not a masked 500.
    onRequestParse({ requestParser, setRequestParser }) {
      if (!requestParser) return;
      setRequestParser(async (request) => {
        try {
          return await requestParser(request);
        } catch (err) {
          if (!(err instanceof SyntaxError)) throw err;
          throw new GraphQLError(`Request parameters are not valid JSON: ${err.message}`, { extensions: { code: 'BAD_REQUEST', http: { status: 400 } } });
        }
      });
    },
  };
  return createYoga<Record<string, unknown>, GraphQLContext>({
    schema,
    graphqlEndpoint: '/graphql',
    // The server passes who is asking (app.ts for HTTP, ws.ts per connection); nobody, if it does not.
    context: (initial) => ({ services: opts.services, principal: (initial.principal as Principal | undefined) ?? { kind: 'anonymous' } }),
    graphiql: {
      title: 'Observer GraphQL',
      subscriptionsProtocol: 'WS',
      defaultQuery: `# Observer's API. Try:
query Projects {
  projects { id name sessions { id runName status } }
}

# subscription Status { sessionStatus(sessionId: 1) { status stepIndex reason run { healthScore issues { severity title } } } }
`,
    },
    // GraphiQL bundled into the page: the default loads it from a CDN, which machines without internet cannot reach.
    renderGraphiQL,
    maskedErrors: { maskError: (e, m) => maskError(e, m, opts.onUnexpected) },
    landingPage: false,
    cors: (request) => {
      const origin = request.headers.get('origin');
      return origin && isAllowedOrigin(origin, opts.corsOrigins) ? { origin: [origin], credentials: false } : false;
    },
    logging: false,
    plugins: [limits],
  });
}
