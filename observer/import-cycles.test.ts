import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';

/** The library's modules and what each imports from the others (type-only imports included). */
function importGraph(root: string): Map<string, string[]> {
  const files = readdirSync(root, { recursive: true })
    .map(String)
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts') && !f.endsWith('.d.ts') && !f.startsWith('dist') && !f.startsWith('node_modules'));
  return new Map(
    files.map((f) => {
      const text = readFileSync(path.join(root, f), 'utf8');
      const deps = [...text.matchAll(/^(?:import|export)\b[^'";]*?from\s+'(\.{1,2}\/[^']+)'/gm)].map((m) => path.normalize(path.join(path.dirname(f), m[1]!)));
      return [path.normalize(f), deps];
    }),
  );
}

it('has no import cycles in observer/, not even through type-only imports', () => {
  const graph = importGraph(import.meta.dirname);
  expect(graph.get('observer.ts')).toContain('callbacks.ts');
  const cycles: string[] = [];
  const stack: string[] = [];
  const done = new Set<string>();
  const visit = (file: string) => {
    if (stack.includes(file)) return void cycles.push([...stack.slice(stack.indexOf(file)), file].join(' -> '));
    if (done.has(file)) return;
    stack.push(file);
    for (const dep of graph.get(file) ?? []) visit(dep);
    stack.pop();
    done.add(file);
  };
  for (const file of graph.keys()) visit(file);
  expect(cycles).toEqual([]);
});
