/** Strips the IPv4-mapped IPv6 prefix (`::ffff:10.0.0.1` → `10.0.0.1`) and lowercases. */
export function normalizeIp(ip: string): string {
  const t = ip.trim().toLowerCase();
  return t.startsWith('::ffff:') && t.includes('.') ? t.slice(7) : t;
}

/**
 * The client's address: the socket's peer, or — when that peer is a trusted proxy — the nearest
 * address in `X-Forwarded-For` that is not a trusted proxy itself (proxies append on the right,
 * so anything left of an untrusted hop could be forged by the client).
 * @example clientIp('127.0.0.1', '203.0.113.9', new Set(['127.0.0.1'])) // '203.0.113.9'
 */
export function clientIp(peer: string, forwardedFor: string | undefined, trusted: ReadonlySet<string>): string {
  let ip = normalizeIp(peer);
  if (!forwardedFor || !trusted.has(ip)) return ip;
  const hops = forwardedFor.split(',').map(normalizeIp).filter(Boolean);
  for (let i = hops.length - 1; i >= 0; i--) {
    ip = hops[i]!;
    if (!trusted.has(ip)) return ip;
  }
  return ip;
}

/** Parses `TRUST_PROXY`: comma-separated proxy addresses. */
export function parseTrustedProxies(value: string | undefined): ReadonlySet<string> {
  return new Set((value ?? '').split(',').map(normalizeIp).filter(Boolean));
}
