import { useConnection } from '../graphql/useConnection.ts';

/**
 * Says so while the subscription socket is lost: live updates wait, the client reconnects by
 * itself, and pages re-read what they missed once it is back.
 */
export function ConnectionBanner() {
  const { state, reason } = useConnection();
  if (state !== 'reconnecting') return null;
  return (
    <div className="alert" role="status" data-testid="reconnecting">
      <strong>Live updates paused:</strong> {reason ?? 'the connection to the server was lost'}. Reconnecting…
    </div>
  );
}
