/**
 * Writes `web/src/graphql/graphql-env.d.ts`, the introspection of `schema.graphql` that types
 * the web app's GraphQL documents (gql.tada's `generate-output`, configured by the plugin entry
 * of `web/tsconfig.json`). `npm run schema:print` runs it after printing the schema; on its own:
 * `npx tsx scripts/web-introspection.ts`. A test fails when the committed file is stale.
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(import.meta.dirname, '..');
/** The web app's tsconfig: its gql.tada plugin entry names the schema and the output. */
export const WEB_TSCONFIG = path.join(ROOT, 'web/tsconfig.json');
export const INTROSPECTION_FILE = path.join(ROOT, 'web/src/graphql/graphql-env.d.ts');
const CLI = path.join(ROOT, 'node_modules/.bin/gql.tada');

/**
 * Generates the introspection of the schema named by `tsconfig` into `output`.
 * @throws Error with gql.tada's message when the schema cannot be read
 */
export function writeWebIntrospection(output = INTROSPECTION_FILE, tsconfig = WEB_TSCONFIG): void {
  execFileSync(CLI, ['generate-output', '--tsconfig', tsconfig, '--output', output], { stdio: 'pipe' });
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  writeWebIntrospection();
  console.log(`wrote ${path.relative(process.cwd(), INTROSPECTION_FILE)}`);
}
