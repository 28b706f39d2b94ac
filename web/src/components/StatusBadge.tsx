/** A session status as a coloured badge. */
export function StatusBadge({ status }: { status: string }) {
  return (
    <span className={`badge badge-${status}`} data-testid="status">
      {status}
    </span>
  );
}

export function Severity({ severity }: { severity: string }) {
  return <span className={`sev sev-${severity}`}>{severity}</span>;
}
