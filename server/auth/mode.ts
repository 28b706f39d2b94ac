/** Whether an address to bind is loopback only (127.0.0.0/8, ::1, localhost). */
export function isLoopbackAddress(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127(\.\d{1,3}){3}$/.test(h) || h === '::ffff:127.0.0.1';
}

/**
 * Whether a request's Host header names this machine's loopback (with auth off, a page that
 * rebinds its own DNS name to 127.0.0.1 still sends its own name, and is refused). An empty
 * Host (HTTP/1.0 health checks) is not a browser's.
 */
export function isLoopbackHostHeader(host: string | undefined, allowed: readonly string[]): boolean {
  if (host === undefined || host === '') return true;
  const name = host.replace(/:\d{1,5}$/, '').toLowerCase();
  return isLoopbackAddress(name) || name.endsWith('.localhost') || allowed.some((a) => a.toLowerCase() === name);
}

/** How the server protects itself, decided at start. */
interface AuthMode {
  required: boolean;
  /** Printed at every start (auth off on purpose on a non-loopback address). */
  warning: string | undefined;
}

/**
 * `AUTH=required` or `AUTH=off` as set; unset, `off` on a loopback address and a refusal
 * anywhere else. @throws Error explaining how to turn auth on, or how to accept the risk
 */
export function resolveAuthMode(auth: 'required' | 'off' | undefined, host: string): AuthMode {
  if (auth === 'required') return { required: true, warning: undefined };
  if (isLoopbackAddress(host)) return { required: false, warning: undefined };
  if (auth === 'off')
    return {
      required: false,
      warning:
        `AUTH=off on ${host}: anyone who can reach this port can read every project, write steps and stop training. Set AUTH=required to ask for API keys. ` +
        'Requests must still name a loopback host, or one listed in ALLOWED_HOSTS (the DNS-rebinding guard).',
    };
  throw new Error(
    `HOST=${host} is not a loopback address and AUTH is not set. Anyone who can reach the port could read and steer every training run. ` +
      'Set AUTH=required (with OBSERVER_ADMIN_TOKEN, and keys from `npm run keys -- create --project <id> --scope write`), ' +
      'or AUTH=off to accept the risk (a warning is printed at every start).',
  );
}
