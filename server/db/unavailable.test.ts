import { describe, expect, it } from 'vitest';
import { isDatabaseUnavailable } from './unavailable.ts';

describe('isDatabaseUnavailable', () => {
  it('recognises a database that cannot be reached, in every shape Prisma and the adapters give it', () => {
    const refusing = { code: 'P2039', meta: { driverAdapterError: { cause: { kind: 'postgres', code: '55000', message: 'database "x" is not currently accepting connections' } } } };
    for (const err of [
      refusing,
      { code: 'P1001' },
      { code: 'P2024' },
      { cause: { code: 'ECONNREFUSED' } },
      { meta: { driverAdapterError: { cause: { kind: 'DatabaseNotReachable' } } } },
      { meta: { driverAdapterError: { cause: { kind: 'postgres', code: '57P01' } } } },
      { meta: { driverAdapterError: { cause: { kind: 'postgres', code: '08006' } } } },
    ])
      expect(isDatabaseUnavailable(err), JSON.stringify(err)).toBe(true);
  });

  it('leaves query errors and other failures alone', () => {
    for (const err of [
      new Error('boom'),
      { code: 'P2002' },
      { meta: { driverAdapterError: { cause: { kind: 'postgres', code: '22021', message: 'invalid byte sequence' } } } },
      { meta: { driverAdapterError: { cause: { kind: 'postgres', code: '55000', message: 'object not in prerequisite state' } } } },
      null,
      'text',
    ])
      expect(isDatabaseUnavailable(err), JSON.stringify(err)).toBe(false);
  });
});
