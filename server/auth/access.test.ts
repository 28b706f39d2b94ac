import { describe, expect, it } from 'vitest';
import { notFound } from '../errors.ts';
import { AccessGuard, type Rule } from './access.ts';
import type { Principal } from './principal.ts';

/** Sessions 1 and 2 belong to project 1, session 3 to project 2. */
const guard = new AccessGuard({
  projectOf: async (id) => {
    const p = { 1: 1, 2: 1, 3: 2 }[id];
    if (p === undefined) throw notFound('Session', id);
    return p;
  },
});
const key = (projectId: number | null, scope: 'read' | 'write'): Principal => ({ kind: 'key', keyId: 9, projectId, scope });
const codeOf = (p: Promise<unknown>) => p.then(() => 'ok', (e: { code?: string; message?: string }) => `${e.code}: ${e.message}`);

describe('AccessGuard', () => {
  const writeSession: Rule = { need: 'write', on: { session: 'sessionId' } };

  it("answers another project's session exactly as a session that does not exist", async () => {
    const other = codeOf(guard.run(key(2, 'write'), writeSession, { sessionId: 1 }, () => 'done'));
    const absent = codeOf(guard.run(key(2, 'write'), writeSession, { sessionId: 99 }, () => 'done'));
    expect(await other).toBe('NOT_FOUND: Session 1 not found');
    expect(await absent).toBe('NOT_FOUND: Session 99 not found');
  });

  it('lets a read key read and refuses it a write; a project key cannot act as admin', async () => {
    expect(await codeOf(guard.run(key(1, 'read'), { need: 'read', on: { session: 'id' } }, { id: 2 }, () => 'done'))).toBe('ok');
    expect(await codeOf(guard.run(key(1, 'read'), writeSession, { sessionId: 2 }, () => 'done'))).toMatch(/^FORBIDDEN/);
    expect(await codeOf(guard.run(key(1, 'write'), { need: 'admin', on: { global: true } }, {}, () => 'done'))).toMatch(/^FORBIDDEN/);
    expect(await codeOf(guard.run({ kind: 'admin', keyId: null }, { need: 'admin', on: { global: true } }, {}, () => 'done'))).toBe('ok');
  });

  it('refuses anonymous and invalid callers before looking anything up', async () => {
    expect(await codeOf(guard.run({ kind: 'anonymous' }, writeSession, { sessionId: 1 }, () => 'done'))).toMatch(/^UNAUTHENTICATED/);
    expect(await codeOf(guard.run({ kind: 'invalid', reason: 'This API key was revoked' }, writeSession, { sessionId: 1 }, () => 'done'))).toBe(
      'UNAUTHENTICATED: This API key was revoked',
    );
  });

  it('narrows lists to the key’s project and filters a stream of new sessions', async () => {
    const seen: Record<string, unknown>[] = [];
    await guard.run(key(1, 'read'), { need: 'read', on: { sessionList: 'projectId' } }, { projectId: null }, (a) => seen.push(a));
    await guard.run(key(1, 'read'), { need: 'read', on: { projectList: { after: 'after', first: 'first' } } }, { after: null, first: 50 }, (a) => seen.push(a));
    expect(seen).toEqual([{ projectId: 1 }, { after: 0, first: 1 }]);
    expect(await codeOf(guard.run(key(1, 'read'), { need: 'read', on: { sessionList: 'projectId' } }, { projectId: 2 }, () => 'done'))).toBe('NOT_FOUND: Project 2 not found');
    async function* sessions() {
      yield { projectId: 2, id: 3 };
      yield { projectId: 1, id: 4 };
    }
    const stream = await guard.run(key(1, 'read'), { need: 'read', on: { sessionStream: true } }, {}, () => sessions());
    expect((await stream.next()).value).toEqual({ projectId: 1, id: 4 });
  });
});
