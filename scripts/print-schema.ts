/**
 * Writes `schema.graphql`, the printed SDL of the code-first schema: `npm run schema:print`.
 * A test fails when the committed file is stale.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { printSchemaSDL, SCHEMA_FILE } from '../server/graphql/print.ts';

writeFileSync(SCHEMA_FILE, printSchemaSDL());
console.log(`wrote ${path.relative(process.cwd(), SCHEMA_FILE)}`);
