import { createHash } from 'node:crypto';

/**
 * What browsers may do with the gateway (DESIGN §4): which other origins may call the API and
 * open sockets (`CORS_ORIGINS`), the headers every response carries, and the page's CSP.
 */
export interface BrowserPolicy {
  /** Exact origins (`scheme://host[:port]`) allowed cross-origin, or `*` for any (never with credentials). */
  readonly origins: ReadonlySet<string> | '*';
}

/** The default: no other origin may call the API or open sockets. */
export const NO_CROSS_ORIGIN: BrowserPolicy = Object.freeze({ origins: new Set<string>() });

/** Headers on every HTTP response. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
});

/** Request headers a cross-origin caller may send. */
const ALLOW_HEADERS = 'authorization, content-type, accept, last-event-id';
/** Response headers a cross-origin caller may read. */
const EXPOSE_HEADERS = 'retry-after, x-run-id';
const PREFLIGHT_MAX_AGE_S = 600;

/**
 * Parses `CORS_ORIGINS`: a comma-separated list of origins, or `*`. Each origin must be exactly
 * `scheme://host[:port]` (no path, no trailing slash).
 * @example parseCorsOrigins('https://app.example.com, http://localhost:5173')
 * @throws Error naming the bad entry
 */
export function parseCorsOrigins(raw: string | undefined): BrowserPolicy {
  const entries = (raw ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  if (entries.length === 1 && entries[0] === '*') return { origins: '*' };
  for (const e of entries) {
    let url: URL | null = null;
    try {
      url = new URL(e);
    } catch {
      /* reported below */
    }
    if (!url || url.origin !== e || !/^https?:$/.test(url.protocol)) throw new Error(`CORS_ORIGINS: "${e}" is not an origin like https://app.example.com`);
  }
  return { origins: new Set(entries) };
}

/** True when `origin` is listed in the policy (exact match). */
export function corsAllowed(policy: BrowserPolicy, origin: string | undefined): boolean {
  if (!origin) return false;
  return policy.origins === '*' ? true : policy.origins.has(origin);
}

/** CORS headers for a (non-preflight) response to `origin`; empty when it is not allowed. */
export function corsHeaders(policy: BrowserPolicy, origin: string | undefined): Record<string, string> {
  if (!corsAllowed(policy, origin)) return origin ? { vary: 'Origin' } : {};
  return {
    'access-control-allow-origin': policy.origins === '*' ? '*' : origin!,
    'access-control-expose-headers': EXPOSE_HEADERS,
    vary: 'Origin',
  };
}

/** The answer to a preflight for `origin` on a route that accepts `methods`: 204 with the grants, or 403. */
export function preflight(policy: BrowserPolicy, origin: string | undefined, methods: string[]): { status: number; headers: Record<string, string> } {
  if (!corsAllowed(policy, origin)) return { status: 403, headers: { vary: 'Origin' } };
  return {
    status: 204,
    headers: {
      ...corsHeaders(policy, origin),
      'access-control-allow-methods': [...new Set(methods)].join(', '),
      'access-control-allow-headers': ALLOW_HEADERS,
      'access-control-max-age': String(PREFLIGHT_MAX_AGE_S),
    },
  };
}

/**
 * Whether a socket upgrade from a browser may proceed: no `Origin` (not a browser), the
 * gateway's own origin (its `Host`), or an origin in `CORS_ORIGINS`. Browsers do not apply CORS
 * to WebSockets, so this check is the only thing that stops another site's page from opening a
 * socket with a token it holds.
 */
export function socketOriginAllowed(policy: BrowserPolicy, origin: string | undefined, host: string | undefined): boolean {
  if (origin === undefined) return true;
  if (corsAllowed(policy, origin)) return true;
  if (!host) return false;
  try {
    return new URL(origin).host === host.toLowerCase();
  } catch {
    return false;
  }
}

const SAFE_HOST = /^[a-z0-9.-]+(:\d{1,5})?$|^\[[0-9a-f:.]+\](:\d{1,5})?$/i;

/**
 * The page's Content-Security-Policy: its own scripts and styles only (inline blocks allowed by
 * their sha256 hashes, so no `unsafe-inline`), sockets to itself, and no framing at all.
 */
export function pageCsp(html: string, host?: string): string {
  const hashes = (tag: string) =>
    [...html.matchAll(new RegExp(`<${tag}(?![^>]*\\ssrc=)[^>]*>([\\s\\S]*?)</${tag}>`, 'g'))]
      .map((m) => `'sha256-${createHash('sha256').update(m[1]!).digest('base64')}'`)
      .join(' ');
  const self = host && SAFE_HOST.test(host) ? ` ws://${host} wss://${host}` : '';
  return [
    "default-src 'self'",
    `script-src 'self' ${hashes('script')}`.trim(),
    `style-src 'self' ${hashes('style')}`.trim(),
    "img-src 'self' data:",
    `connect-src 'self'${self}`,
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/** Headers of the page on top of {@link SECURITY_HEADERS}. */
export function pageHeaders(html: string, host?: string): Record<string, string> {
  return { 'content-security-policy': pageCsp(html, host), 'x-frame-options': 'DENY' };
}
