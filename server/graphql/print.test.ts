import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { printSchemaSDL, SCHEMA_FILE } from './print.ts';

describe('schema.graphql', () => {
  it('matches the code-first schema (run `npm run schema:print` after changing it)', () => {
    expect(readFileSync(SCHEMA_FILE, 'utf8')).toBe(printSchemaSDL());
  });
});
