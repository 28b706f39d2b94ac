import { CombinedError } from '@urql/core';
import { describe, expect, it } from 'vitest';
import { describeLiveError } from './live-error.ts';

describe('describeLiveError', () => {
  it('tells a lost connection from an error the server answered', () => {
    expect(describeLiveError(new CombinedError({ networkError: new Error('the connection closed with 1006: the connection dropped') }))).toBe(
      'the connection to the server was lost (the connection closed with 1006: the connection dropped)',
    );
    expect(describeLiveError(new CombinedError({ graphQLErrors: [{ message: 'Session 9 not found' }, { message: 'Session 9 not found' }] }))).toBe(
      'the server ended them: Session 9 not found',
    );
  });
});
