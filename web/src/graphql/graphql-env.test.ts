/**
 * The web app's documents are typed from schema.graphql: the committed introspection is the
 * schema's, and a field renamed in the schema fails `tsc` on the web app, naming the field.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { INTROSPECTION_FILE, writeWebIntrospection } from '../../../scripts/web-introspection.ts';

const ROOT = path.resolve(import.meta.dirname, '../../..');
const dirs: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'observer-web-types-'));
  dirs.push(dir);
  return dir;
};
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** schema.graphql with one output field renamed inside one type. */
function renameField(sdl: string, type: string, field: string, to: string): string {
  const start = sdl.indexOf(`type ${type} {`);
  const end = sdl.indexOf('\n}', start);
  expect(start, `type ${type} in schema.graphql`).toBeGreaterThanOrEqual(0);
  const body = sdl.slice(start, end);
  expect(body).toContain(`\n  ${field}:`);
  return sdl.slice(0, start) + body.replace(`\n  ${field}:`, `\n  ${to}:`) + sdl.slice(end);
}

describe('web/src/graphql/graphql-env.d.ts', () => {
  it('is the introspection of schema.graphql (run `npm run schema:print` after changing the schema)', () => {
    const fresh = path.join(tempDir(), 'graphql-env.d.ts');
    writeWebIntrospection(fresh);
    expect(readFileSync(INTROSPECTION_FILE, 'utf8')).toBe(readFileSync(fresh, 'utf8'));
  }, 60_000);

  it('makes tsc fail on the web app, naming the field, when a field it queries is renamed in the schema', () => {
    // A copy of the web app beside a schema whose LossStats.trainMean became meanTrain.
    const dir = tempDir();
    cpSync(path.join(ROOT, 'web/src'), path.join(dir, 'web/src'), { recursive: true, filter: (f) => !f.endsWith('.test.ts') });
    cpSync(path.join(ROOT, 'web/tsconfig.json'), path.join(dir, 'web/tsconfig.json'));
    cpSync(path.join(ROOT, 'tsconfig.json'), path.join(dir, 'tsconfig.json'));
    writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ type: 'module' }));
    symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
    writeFileSync(path.join(dir, 'schema.graphql'), renameField(readFileSync(path.join(ROOT, 'schema.graphql'), 'utf8'), 'LossStats', 'trainMean', 'meanTrain'));
    writeWebIntrospection(path.join(dir, 'web/src/graphql/graphql-env.d.ts'), path.join(dir, 'web/tsconfig.json'));

    const tsc = spawnSync(process.execPath, [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '--noEmit', '-p', 'web/tsconfig.json'], { cwd: dir, encoding: 'utf8' });
    const errors = tsc.stdout.split('\n').filter((l) => /error TS\d+/.test(l));
    expect(tsc.status).not.toBe(0);
    // Where the chart fields are selected, the error names the field the schema no longer has.
    expect(tsc.stdout).toMatch(/'fields not in schema\.graphql': "[^"]*loss\.trainMean"/);
    expect(errors.some((l) => l.startsWith('web/src/graphql/queries.ts'))).toBe(true);
  }, 180_000);
});
