import { corsHeaders, pageCsp, parseCorsOrigins, preflight, socketOriginAllowed } from './browser-policy.js';

describe('browser policy', () => {
  const policy = parseCorsOrigins('https://app.example.com, http://localhost:5173');

  it('parses origins and refuses entries that are not origins', () => {
    expect(parseCorsOrigins(undefined).origins).toEqual(new Set());
    expect(parseCorsOrigins('*').origins).toBe('*');
    for (const bad of ['https://app.example.com/', 'app.example.com', 'ftp://x.example', 'https://x.example/path', 'null'])
      expect(() => parseCorsOrigins(bad), bad).toThrow(/CORS_ORIGINS/);
  });

  it('grants listed origins exactly, never by prefix or suffix', () => {
    expect(corsHeaders(policy, 'https://app.example.com')['access-control-allow-origin']).toBe('https://app.example.com');
    for (const o of ['https://app.example.com.evil.example', 'https://evil.app.example.com', 'http://app.example.com', 'http://localhost:5174', 'null', undefined])
      expect(corsHeaders(policy, o)['access-control-allow-origin'], String(o)).toBeUndefined();
  });

  it('answers * without credentials when any origin is allowed', () => {
    const any = parseCorsOrigins('*');
    const h = preflight(any, 'https://x.example', ['GET']).headers;
    expect(h['access-control-allow-origin']).toBe('*');
    expect(h['access-control-allow-credentials']).toBeUndefined();
  });

  it('refuses a preflight from an unlisted origin', () => {
    expect(preflight(policy, 'https://evil.example', ['GET']).status).toBe(403);
    expect(preflight(policy, 'http://localhost:5173', ['GET', 'POST', 'GET'])).toMatchObject({ status: 204, headers: { 'access-control-allow-methods': 'GET, POST' } });
  });

  it("lets a socket in without Origin, from its own host, or from a listed origin", () => {
    expect(socketOriginAllowed(policy, undefined, 'gw:8080')).toBe(true);
    expect(socketOriginAllowed(policy, 'http://gw:8080', 'gw:8080')).toBe(true);
    expect(socketOriginAllowed(policy, 'http://localhost:5173', 'gw:8080')).toBe(true);
    expect(socketOriginAllowed(policy, 'http://gw:8081', 'gw:8080')).toBe(false);
    expect(socketOriginAllowed(policy, 'null', 'gw:8080')).toBe(false);
    expect(socketOriginAllowed(policy, 'http://gw:8080', undefined)).toBe(false);
  });

  it('hashes inline scripts and styles into the CSP and ignores a hostile Host', () => {
    const csp = pageCsp('<style>a{}</style><script type="module">go()</script><script src="/x.js"></script>', 'evil; script-src *');
    expect(csp).toMatch(/script-src 'self' 'sha256-[^']+'/);
    expect(csp).toMatch(/style-src 'self' 'sha256-[^']+'/);
    expect(csp).not.toContain('evil');
    expect(csp).toContain("frame-ancestors 'none'");
    expect(pageCsp('', 'gw.example:8080')).toContain('connect-src \'self\' ws://gw.example:8080 wss://gw.example:8080');
  });
});
