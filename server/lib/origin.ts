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
