/**
 * What a failed subscription tells the user: a lost connection and an error the server
 * answered read differently (urql's CombinedError carries one or the other).
 */
import type { CombinedError } from 'urql';

/** One sentence for the live-updates banner. */
export function describeLiveError(error: Pick<CombinedError, 'networkError' | 'graphQLErrors' | 'message'>): string {
  if (error.networkError) return `the connection to the server was lost (${error.networkError.message || 'no reason given'})`;
  const messages = [...new Set(error.graphQLErrors.map((e) => e.message))];
  return messages.length ? `the server ended them: ${messages.join('; ')}` : error.message;
}
