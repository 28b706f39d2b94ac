import { useState } from 'react';
import type { CombinedError } from 'urql';
import { describeLiveError } from './live-error.ts';

/**
 * Says that live updates stopped, and why, with a Retry: a failed subscription is shown, not
 * swallowed. Renders nothing while live, and nothing once retried until a new error comes.
 */
export function LiveBanner({ error, retry }: { error: CombinedError | null; retry: () => void }) {
  const [retried, setRetried] = useState<CombinedError | null>(null);
  if (!error || error === retried) return null;
  return (
    <div className="alert live-banner" role="alert" data-testid="live-error">
      <strong>Live updates stopped:</strong> {describeLiveError(error)}. What is shown may be out of date.{' '}
      <button
        className="button"
        data-testid="live-retry"
        onClick={() => {
          setRetried(error);
          retry();
        }}
      >
        Retry
      </button>
    </div>
  );
}
