const LOCAL = /^https?:\/\/(localhost|127\.0\.0\.1|\[::1\])(:\d+)?$/;

/**
 * Whether a browser page from `origin` may call the API. Pages served by this server, any
 * localhost page (a training page on a dev server) and the configured origins may; other
 * websites a user visits may not read a local training server. Requests without an Origin
 * (Python, Node, curl) are not browsers and are allowed.
 */
export function isAllowedOrigin(origin: string | null | undefined, extra: readonly string[]): boolean {
  return !origin || LOCAL.test(origin) || extra.includes(origin);
}

/** What the API allows a browser page to send, for CORS preflights (REST and GraphQL alike). */
const ALLOWED_METHODS = 'GET, POST, OPTIONS';

/**
 * CORS response headers for a request from `origin`: none when there is no Origin or the
 * origin is not allowed (the browser then refuses the page the answer). For a preflight
 * (`preflight: true`) also the methods and the headers the page asked to send.
 */
export function corsHeaders(
  origin: string | undefined,
  extra: readonly string[],
  preflight?: { requestHeaders: string | undefined },
): Record<string, string> {
  if (!origin || !isAllowedOrigin(origin, extra)) return {};
  const headers: Record<string, string> = { 'access-control-allow-origin': origin, vary: 'Origin' };
  if (preflight) {
    headers['access-control-allow-methods'] = ALLOWED_METHODS;
    headers['access-control-allow-headers'] = sanitizeHeaderList(preflight.requestHeaders) || 'content-type';
    headers['access-control-max-age'] = '600';
  }
  return headers;
}

/** A comma-separated list of header names, keeping only valid names (a preflight echoes it back). */
function sanitizeHeaderList(list: string | undefined): string {
  return (list ?? '')
    .split(',')
    .map((h) => h.trim())
    .filter((h) => /^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,64}$/.test(h))
    .slice(0, 32)
    .join(', ');
}

/**
 * Whether a Host header is well formed: empty (allowed for requests without an authority),
 * a name or IPv4 address, or a bracketed IPv6 address, with an optional port.
 */
export function isValidHost(host: string | undefined): boolean {
  if (host === undefined || host === '') return true;
  return /^(\[[0-9A-Fa-f:.]+(%[\w.-]+)?\]|[A-Za-z0-9._~!$&'()*+,;=%-]+)(:\d{1,5})?$/.test(host);
}
