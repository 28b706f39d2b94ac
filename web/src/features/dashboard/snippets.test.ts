import { describe, expect, it } from 'vitest';
import { snippets } from './snippets.ts';

describe('snippets', () => {
  it("fills in this server's URL and the project to train in, three lines each", () => {
    const s = snippets('http://localhost:8000', 7);
    expect(s.createProject).toBeNull();
    for (const code of [s.python, s.tfjs]) expect(code.split('\n')).toHaveLength(3);
    expect(s.python).toContain('http://localhost:8000');
    expect(s.python).toContain('Observer(project_id=7,');
    expect(s.tfjs).toContain("from '@observer/tfjs'");
    expect(s.tfjs).toContain('projectId: 7,');
    expect(s.tfjs).toContain('serverUrl: "http://localhost:8000"');
    expect(s.tfjs).toContain('obs.callbacks(');
  });

  it('says how to create a project first when there is none, and trains in the one it makes', () => {
    const s = snippets('https://observer.example.org', null);
    expect(s.createProject).toBe(`curl -X POST https://observer.example.org/projects -H 'content-type: application/json' -d '{"name": "my project"}'`);
    expect(s.tfjs).toContain('projectId: 1,');
    expect(s.python).toContain('project_id=1,');
  });
});
