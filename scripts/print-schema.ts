/**
 * Writes `schema.graphql`, the printed SDL of the code-first schema, and the web app's
 * introspection typed from it: `npm run schema:print`. Tests fail when either is stale.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { printSchemaSDL, SCHEMA_FILE } from '../server/graphql/print.ts';
import { INTROSPECTION_FILE, writeWebIntrospection } from './web-introspection.ts';

writeFileSync(SCHEMA_FILE, printSchemaSDL());
console.log(`wrote ${path.relative(process.cwd(), SCHEMA_FILE)}`);
writeWebIntrospection();
console.log(`wrote ${path.relative(process.cwd(), INTROSPECTION_FILE)}`);
