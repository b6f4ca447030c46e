/**
 * The page and browser-facing headers: security headers on every response, the page's CSP,
 * HEAD without a body, CORS (preflights, allowed and refused origins), the socket's Origin check
 * and the /metrics exposure; regression tests of D6 and D10.
 */
import { createHash } from 'node:crypto';
import { expect } from 'vitest';
import { loadConfig } from '../../../src/config.js';
import { rawHttp, request, type Case } from './support.js';
import { startHostile, type HostileGateway, type Transport } from './start.js';

const ALLOWED = 'http://app.example:5173';
const EVIL = 'http://evil.example';

/** Routes whose every answer must carry nosniff and Referrer-Policy. */
const routes: Array<Case<{ method: string; path: string; auth?: boolean; body?: unknown }>> = [
  { name: 'GET /', input: { method: 'GET', path: '/' } },
  { name: 'GET /client.js', input: { method: 'GET', path: '/client.js' } },
  { name: 'GET /favicon.ico', input: { method: 'GET', path: '/favicon.ico' } },
  { name: 'GET /healthz', input: { method: 'GET', path: '/healthz' } },
  { name: 'GET /readyz', input: { method: 'GET', path: '/readyz' } },
  { name: 'GET /v1/me without a token (401)', input: { method: 'GET', path: '/v1/me' } },
  { name: 'GET /v1/me', input: { method: 'GET', path: '/v1/me', auth: true } },
  { name: 'GET /v1/sessions', input: { method: 'GET', path: '/v1/sessions', auth: true } },
  { name: 'POST /v1/sessions (400)', input: { method: 'POST', path: '/v1/sessions', auth: true, body: [] } },
  { name: 'POST /v1/auth/login (401)', input: { method: 'POST', path: '/v1/auth/login', body: { email: 'nobody@example.com', password: 'wrong password' } } },
  { name: 'an unknown route (404)', input: { method: 'GET', path: '/nope' } },
  { name: 'a wrong method (405)', input: { method: 'DELETE', path: '/healthz' } },
];

/** Directives the page's CSP must hold. */
const cspDirectives: Array<Case<RegExp>> = [
  { name: "frame-ancestors 'none'", input: /frame-ancestors 'none'/ },
  { name: "default-src 'self'", input: /default-src 'self'/ },
  { name: "object-src 'none'", input: /object-src 'none'/ },
  { name: "base-uri 'none'", input: /base-uri 'none'/ },
  { name: "form-action 'self'", input: /form-action 'self'/ },
  { name: 'no unsafe-eval', input: /^(?!.*unsafe-eval)/ },
  { name: 'no unsafe-inline scripts', input: /script-src(?![^;]*unsafe-inline)/ },
  { name: 'connect-src reaches the socket', input: /connect-src [^;]*'self'/ },
];

export function describePageHostile(transport: Transport): void {
  describe(`page and browser headers over ${transport}`, () => {
    let t: HostileGateway;
    let token: string;
    beforeAll(async () => {
      t = await startHostile(transport, { CORS_ORIGINS: `${ALLOWED},https://other.example` });
      token = (await t.user()).token;
    });
    afterAll(async () => t?.stop());

    it.each(routes.map((r) => [r.name, r.input] as const))('D6: %s carries nosniff and Referrer-Policy: no-referrer', async (_name, r) => {
      const res = await t.http(r.method, r.path, { token: r.auth ? token : undefined, body: r.body });
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    });

    it.each(cspDirectives.map((d) => [d.name, d.input] as const))("D6: the page's CSP has %s", async (_name, re) => {
      const csp = (await t.http('GET', '/')).headers.get('content-security-policy') ?? '';
      expect(csp).toMatch(re);
    });

    it('D6: the sign-in page refuses to be framed (CSP and X-Frame-Options)', async () => {
      const res = await t.http('GET', '/');
      expect(res.headers.get('x-frame-options')).toBe('DENY');
      expect(res.headers.get('content-security-policy')).toMatch(/frame-ancestors 'none'/);
    });
    it("D6: every inline script and style of the page is allowed by the CSP's hashes", async () => {
      const res = await t.http('GET', '/');
      const csp = res.headers.get('content-security-policy')!;
      const html = String(res.body);
      for (const [tag, directive] of [['script', 'script-src'], ['style', 'style-src']] as const) {
        for (const m of html.matchAll(new RegExp(`<${tag}(?![^>]*\\ssrc=)[^>]*>([\\s\\S]*?)</${tag}>`, 'g'))) {
          const hash = `'sha256-${createHash('sha256').update(m[1]!).digest('base64')}'`;
          expect(csp.split(';').find((d) => d.trim().startsWith(directive)), `${tag} hash`).toContain(hash);
        }
      }
    });
    it('D6: the page has no inline event handlers (the CSP would block them)', async () => {
      expect(String((await t.http('GET', '/')).body)).not.toMatch(/\son[a-z]+=["']/i);
    });
    it('serves /client.js as JavaScript, not sniffable', async () => {
      const res = await t.http('GET', '/client.js');
      expect(res.headers.get('content-type')).toMatch(/^text\/javascript/);
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    });

    describe('D10: HEAD answers without a body', () => {
      it.each(['/', '/healthz', '/readyz', '/client.js'])('D10: HEAD %s has headers and no body, and keep-alive still works', async (path) => {
        const [head, next] = await rawHttp(t.gw.port, [request('HEAD', path), request('GET', '/healthz')]);
        expect(head!.status).toBe(200);
        expect(head!.body).toBe('');
        expect(head!.headers['x-content-type-options']).toBe('nosniff');
        expect(next!.status).toBe(200);
        expect(next!.body).toContain('"ok"');
      });
    });

    describe('CORS', () => {
      const preflight = (origin: string, method = 'POST', headers = 'authorization, content-type') =>
        t.http('OPTIONS', '/v1/sessions', { headers: { origin, 'access-control-request-method': method, 'access-control-request-headers': headers } });

      it('answers a preflight from an allowed origin with 204 and the allowed methods and headers', async () => {
        const res = await preflight(ALLOWED);
        expect(res.status).toBe(204);
        expect(res.headers.get('access-control-allow-origin')).toBe(ALLOWED);
        expect(res.headers.get('access-control-allow-methods')).toMatch(/POST/);
        expect(res.headers.get('access-control-allow-headers')).toMatch(/authorization/i);
        expect(res.headers.get('access-control-allow-credentials')).toBeNull();
        expect(res.headers.get('vary')).toMatch(/origin/i);
        expect(Number(res.headers.get('access-control-max-age'))).toBeGreaterThan(0);
      });
      it('refuses a preflight from an origin not in CORS_ORIGINS with 403 and no allow headers', async () => {
        const res = await preflight(EVIL);
        expect(res.status).toBe(403);
        expect(res.headers.get('access-control-allow-origin')).toBeNull();
      });
      it('refuses a preflight for a method the API does not have', async () => {
        const res = await preflight(ALLOWED, 'PUT');
        expect(res.headers.get('access-control-allow-methods') ?? '').not.toMatch(/PUT/);
      });
      it('gives an allowed origin its own origin back on a real request, and exposes Retry-After', async () => {
        const res = await t.http('GET', '/v1/sessions', { token, headers: { origin: ALLOWED } });
        expect(res.status).toBe(200);
        expect(res.headers.get('access-control-allow-origin')).toBe(ALLOWED);
        expect(res.headers.get('access-control-expose-headers')).toMatch(/retry-after/i);
      });
      it('gives a refused origin no allow header on a real request', async () => {
        const res = await t.http('GET', '/healthz', { headers: { origin: EVIL } });
        expect(res.headers.get('access-control-allow-origin')).toBeNull();
      });
      it('matches origins exactly (no prefix or suffix tricks)', async () => {
        for (const origin of [`${ALLOWED}.evil.example`, 'http://app.example', 'http://app.example:5174', `${ALLOWED}/`, 'null'])
          expect((await preflight(origin)).headers.get('access-control-allow-origin'), origin).toBeNull();
      });
      it('answers OPTIONS on an unknown path with 404', async () => {
        expect((await t.http('OPTIONS', '/nope', { headers: { origin: ALLOWED, 'access-control-request-method': 'GET' } })).status).toBe(404);
      });
    });

    describe("the socket's Origin check", () => {
      it('accepts a socket without Origin (non-browser clients)', async () => {
        const s = await t.raw({ token });
        expect(s.closeCode).toBeNull();
      });
      it('accepts a socket from an origin in CORS_ORIGINS', async () => {
        const s = await t.raw({ token, headers: { origin: ALLOWED } });
        expect(s.frames.some((f) => f.type === 'ready')).toBe(true);
      });
      it("accepts a socket from the gateway's own origin (the built-in page)", async () => {
        const s = await t.raw({ token, headers: { origin: t.url } });
        expect(s.frames.some((f) => f.type === 'ready')).toBe(true);
      });
      it('refuses the upgrade from any other origin with 403', async () => {
        await expect(t.raw({ headers: { origin: EVIL } })).rejects.toThrow(/403/);
        await expect(t.raw({ headers: { origin: 'null' } })).rejects.toThrow(/403/);
      });
    });

    describe('/metrics exposure', () => {
      it('production refuses to start without METRICS_TOKEN or METRICS_PORT', () => {
        const production = { APP_ENV: 'production', JWT_SECRET: 'p'.repeat(40), DATABASE_URL: 'postgres://x@127.0.0.1/x', SINGLE_NODE: 'true', ALLOW_LOCAL_MODEL_IN_PRODUCTION: 'true' };
        expect(() => loadConfig(production)).toThrow(/METRICS_TOKEN or METRICS_PORT/);
        expect(() => loadConfig({ ...production, METRICS_TOKEN: 'm'.repeat(32) })).not.toThrow();
        expect(() => loadConfig({ ...production, METRICS_PORT: '9464' })).not.toThrow();
      });
      it('with METRICS_TOKEN, /metrics needs the bearer token', async () => {
        const m = await startHostile(transport, { METRICS_TOKEN: 'metrics-token-metrics-token-0123' });
        try {
          expect((await m.http('GET', '/metrics')).status).toBe(401);
          expect((await m.http('GET', '/metrics', { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
          expect((await m.http('GET', '/metrics', { token: 'metrics-token-metrics-token-0123' })).status).toBe(200);
        } finally {
          await m.stop();
        }
      });
      it('with METRICS_PORT, /metrics is served only on that port', async () => {
        const m = await startHostile(transport, { METRICS_PORT: '0' });
        try {
          expect((await m.http('GET', '/metrics')).status).toBe(404);
          const port = m.gw.metricsPort!;
          const res = await fetch(`http://127.0.0.1:${port}/metrics`);
          expect(res.status).toBe(200);
          expect(await res.text()).toMatch(/switchboard_/);
          expect((await fetch(`http://127.0.0.1:${port}/v1/me`)).status).toBe(404);
        } finally {
          await m.stop();
        }
      });
      it('nginx does not proxy /metrics', async () => {
        const { readFile } = await import('node:fs/promises');
        const conf = await readFile(new URL('../../../../infra/nginx.conf', import.meta.url), 'utf8');
        expect(conf).toMatch(/location = \/metrics \{[^}]*return 404;/);
      });
    });
  });
}
