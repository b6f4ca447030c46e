/**
 * Hostile input on the HTTP routes: malformed, oversized, unauthorized and cross-user requests,
 * and the regression tests of D2, D3, D5, D7, D11, D13 and the session GET fields.
 */
import { expect } from 'vitest';
import { openStorage } from '../../../src/backends/postgres/index.js';
import type { Storage } from '../../../src/ports.js';
import { pause, uuid, type Case } from './support.js';
import { securityEvents, startHostile, type HostileGateway, type Transport } from './start.js';

const PASSWORD = 'correct horse battery';

interface HttpCase {
  method: string;
  /** `{own}` is replaced by a session of the caller, `{other}` by another user's session. */
  path: string;
  body?: unknown;
  raw?: string;
  headers?: Record<string, string>;
  /** Send the caller's access token (default true). */
  auth?: boolean;
  status: number;
  code?: string;
}

const cases: Array<Case<HttpCase>> = [
  // D5: storage validation errors are 400s, never 500s.
  { name: 'D5: a session cursor that is not a uuid is a 400', input: { method: 'GET', path: '/v1/sessions?before=not-a-uuid', status: 400, code: 'bad_frame' } },
  { name: 'D5: a message cursor with SQL in it is a 400', input: { method: 'GET', path: '/v1/sessions/{own}/messages?before=1%20OR%201=1', status: 400, code: 'bad_frame' } },
  { name: 'D5: a session title with U+0000 is a 400', input: { method: 'POST', path: '/v1/sessions', body: { title: 'a\u0000b' }, status: 400, code: 'bad_frame' } },
  { name: 'D5: a renamed title with U+0000 is a 400', input: { method: 'PATCH', path: '/v1/sessions/{own}', body: { title: '\u0000' }, status: 400, code: 'bad_frame' } },
  { name: 'D2: a message text with U+0000 is a 400', input: { method: 'POST', path: '/v1/sessions/{own}/messages', body: { id: 'n1', text: 'hi\u0000there' }, status: 400, code: 'bad_frame' } },
  { name: 'D9: a message text over maxTextChars is a 413', input: { method: 'POST', path: '/v1/sessions/{own}/messages', body: { id: 'big', text: 'x'.repeat(32_001) }, status: 413, code: 'too_large' } },
  { name: 'limit=0 is a 400', input: { method: 'GET', path: '/v1/sessions?limit=0', status: 400 } },
  { name: 'limit=201 is a 400', input: { method: 'GET', path: '/v1/sessions?limit=201', status: 400 } },
  { name: 'limit=abc is a 400', input: { method: 'GET', path: '/v1/sessions/{own}/messages?limit=abc', status: 400 } },
  { name: 'a session id that is not a uuid is a 404', input: { method: 'GET', path: '/v1/sessions/not-a-uuid', status: 404, code: 'not_found' } },
  { name: 'a NUL in the path is a 404', input: { method: 'GET', path: '/v1/sessions/%00', status: 404 } },
  { name: 'broken percent-encoding in the path is a 404', input: { method: 'GET', path: '/v1/sessions/%E0%A4%A', status: 404 } },
  { name: "another user's session is a 404 (GET)", input: { method: 'GET', path: '/v1/sessions/{other}', status: 404, code: 'not_found' } },
  { name: "another user's session is a 404 (PATCH)", input: { method: 'PATCH', path: '/v1/sessions/{other}', body: { title: 'mine now' }, status: 404 } },
  { name: "another user's session is a 404 (DELETE)", input: { method: 'DELETE', path: '/v1/sessions/{other}', status: 404 } },
  { name: "another user's transcript is a 404", input: { method: 'GET', path: '/v1/sessions/{other}/messages', status: 404 } },
  { name: "a turn in another user's session is a 404", input: { method: 'POST', path: '/v1/sessions/{other}/messages', body: { id: 'x', text: 'hi' }, status: 404 } },
  { name: "a random uuid session is a 404", input: { method: 'GET', path: `/v1/sessions/${uuid()}`, status: 404, code: 'not_found' } },
  { name: 'a JSON array body is a 400', input: { method: 'POST', path: '/v1/sessions', raw: '[]', status: 400 } },
  { name: 'a JSON null body is a 400', input: { method: 'POST', path: '/v1/sessions', raw: 'null', status: 400 } },
  { name: 'a truncated JSON body is a 400', input: { method: 'POST', path: '/v1/sessions', raw: '{"title":', status: 400 } },
  { name: 'a non-JSON content type is a 400', input: { method: 'POST', path: '/v1/sessions', raw: 'title=x', headers: { 'content-type': 'text/plain' }, status: 400 } },
  { name: 'a 201-character title is a 400', input: { method: 'POST', path: '/v1/sessions', body: { title: 't'.repeat(201) }, status: 400 } },
  { name: 'a deeply nested body is parsed without a crash (unknown keys ignored)', input: { method: 'POST', path: '/v1/sessions', raw: `${'{"a":'.repeat(2000)}1${'}'.repeat(2000)}`, status: 201 } },
  { name: 'a __proto__ key in a body is ignored', input: { method: 'POST', path: '/v1/sessions', raw: '{"__proto__":{"admin":true},"title":"ok"}', status: 201 } },
  { name: 'a body over MAX_BODY_BYTES is a 413', input: { method: 'POST', path: '/v1/sessions', raw: JSON.stringify({ title: 'x'.repeat(300_000) }), status: 413, code: 'too_large' } },
  { name: 'a turn without an id is a 400', input: { method: 'POST', path: '/v1/sessions/{own}/messages', body: { text: 'hi' }, status: 400 } },
  { name: 'a turn with only whitespace is a 400', input: { method: 'POST', path: '/v1/sessions/{own}/messages', body: { id: 'w', text: ' \n\t ' }, status: 400 } },
  { name: 'a turn id over 128 characters is a 400', input: { method: 'POST', path: '/v1/sessions/{own}/messages', body: { id: 'i'.repeat(129), text: 'hi' }, status: 400 } },
  { name: 'a query with 1000 parameters is answered normally', input: { method: 'GET', path: `/v1/sessions?${Array.from({ length: 1000 }, (_, i) => `p${i}=${i}`).join('&')}`, status: 200 } },
  { name: 'register with a 300-character email is a 400', input: { method: 'POST', path: '/v1/auth/register', auth: false, body: { email: `${'a'.repeat(290)}@example.com`, password: PASSWORD }, status: 400 } },
  { name: 'register with a 257-character password is a 400', input: { method: 'POST', path: '/v1/auth/register', auth: false, body: { email: 'long@example.com', password: 'p'.repeat(257) }, status: 400 } },
  { name: 'login with an operator object as email is a 400', input: { method: 'POST', path: '/v1/auth/login', auth: false, body: { email: { $ne: null }, password: 'x' }, status: 400 } },
  { name: 'login with SQL as email is a 400', input: { method: 'POST', path: '/v1/auth/login', auth: false, body: { email: "' OR 1=1 --", password: 'x' }, status: 400 } },
  { name: 'a login form without a password is a 400', input: { method: 'POST', path: '/v1/auth/login', auth: false, raw: 'username=a%40b.co', headers: { 'content-type': 'application/x-www-form-urlencoded' }, status: 400 } },
  { name: 'a 600-character refresh token is a 400', input: { method: 'POST', path: '/v1/auth/refresh', auth: false, body: { refreshToken: 'r'.repeat(600) }, status: 400 } },
  { name: 'an unknown refresh token is a 401', input: { method: 'POST', path: '/v1/auth/refresh', auth: false, body: { refreshToken: 'not-a-token' }, status: 401 } },
  { name: 'an unknown route is a 404', input: { method: 'GET', path: '/v1/nothing-here', status: 404, code: 'not_found' } },
  { name: 'a path traversal is a 404', input: { method: 'GET', path: '/../../etc/passwd', status: 404 } },
  { name: 'a wrong method is a 405', input: { method: 'PUT', path: '/v1/sessions', body: {}, status: 405 } },
  { name: 'DELETE on /v1/me is a 405', input: { method: 'DELETE', path: '/v1/me', status: 405 } },
];

export function describeHttpHostile(transport: Transport): void {
  describe(`hostile HTTP over ${transport}`, () => {
    let t: HostileGateway;
    let me: Awaited<ReturnType<TestGatewayUser>>;
    let own: string;
    let other: string;
    beforeAll(async () => {
      t = await startHostile(transport, { TRUST_PROXY: '127.0.0.1', LOGIN_ATTEMPTS_PER_15_MIN: '3', LOGIN_ACCOUNT_CEILING_PER_15_MIN: '6' });
      me = await t.user();
      own = await t.session(me.token);
      other = await t.session((await t.user()).token);
    });
    afterAll(async () => t?.stop());

    it.each(cases.map((c) => [c.name, c.input] as const))('%s', async (_name, c) => {
      const logged = t.logs.length;
      const path = c.path.replace('{own}', own).replace('{other}', other);
      const r = await t.http(c.method, path, { token: c.auth === false ? undefined : me.token, body: c.body, raw: c.raw, headers: c.headers });
      expect(r.status, JSON.stringify(r.body)).toBe(c.status);
      if (c.code) expect(r.body.error.code).toBe(c.code);
      if (c.status >= 400) expect(r.body.error.message).toEqual(expect.any(String));
      // Nothing hostile ever reaches a 500.
      expect(t.logs.slice(logged).filter((l) => l.level === 'error')).toEqual([]);
    });

    describe('D3: login lock per account and address', () => {
      const login = (email: string, password: string, address: string) =>
        t.http('POST', '/v1/auth/login', { body: { email, password }, headers: { 'x-forwarded-for': address } });

      it('D3: ten wrong passwords from one address never lock the owner out of another address', async () => {
        const u = await t.user();
        for (let i = 0; i < 10; i++) await login(u.email, 'wrong horse battery', '198.51.100.1');
        expect((await login(u.email, PASSWORD, '198.51.100.1')).status).toBe(429);
        const owner = await login(u.email, PASSWORD, '198.51.100.2');
        expect(owner.status).toBe(200);
      });
      it('D3: the failing address is refused with a Retry-After (the backoff itself is unit-tested in login-guard.test.ts)', async () => {
        const u = await t.user();
        const statuses: number[] = [];
        let last: Awaited<ReturnType<HostileGateway['http']>> | undefined;
        for (let i = 0; i < 5; i++) {
          last = await login(u.email, 'wrong horse battery', '198.51.100.3');
          statuses.push(last.status);
        }
        expect(statuses).toEqual([401, 401, 401, 429, 429]);
        expect(Number(last!.headers.get('retry-after'))).toBeGreaterThan(0);
      });
      it('D3: past the per-account ceiling, failing addresses are refused but a clean address still signs in', async () => {
        const u = await t.user();
        for (let a = 10; a < 20; a++) await login(u.email, 'wrong horse battery', `198.51.100.${a}`);
        expect((await login(u.email, PASSWORD, '198.51.100.10')).status).toBe(429);
        expect((await login(u.email, PASSWORD, '198.51.100.99')).status).toBe(200);
      });
      it('D13: failed logins and lockouts are logged at warn with the address, never the password', async () => {
        const u = await t.user();
        for (let i = 0; i < 5; i++) await login(u.email, 'hunter2-wrong-pass', '198.51.100.50');
        const failed = securityEvents(t.logs, 'login_failed');
        expect(failed.some((l) => l.address === '198.51.100.50' && l.requestId)).toBe(true);
        expect(securityEvents(t.logs, 'login_locked').some((l) => l.address === '198.51.100.50')).toBe(true);
        expect(JSON.stringify(t.logs)).not.toContain('hunter2-wrong-pass');
      });
    });

    describe('D7: sign-ups and session creation are limited', () => {
      let limited: HostileGateway;
      beforeAll(async () => {
        limited = await startHostile(transport, { TRUST_PROXY: '127.0.0.1', RATE_REGISTRATIONS_PER_IP_PER_HOUR: '3', RATE_SESSIONS_PER_USER_PER_MINUTE: '4' });
      });
      afterAll(async () => limited?.stop());

      it('D7: register is rate-limited per address, with Retry-After, and logged', async () => {
        const statuses: number[] = [];
        let last: Awaited<ReturnType<HostileGateway['http']>> | undefined;
        for (let i = 0; i < 5; i++) {
          last = await limited.http('POST', '/v1/auth/register', { body: { email: `signup${i}-${Date.now()}@example.com`, password: PASSWORD }, headers: { 'x-forwarded-for': '203.0.113.5' } });
          statuses.push(last.status);
        }
        expect(statuses).toEqual([201, 201, 201, 429, 429]);
        expect(last!.body.error.code).toBe('rate_limited');
        expect(Number(last!.headers.get('retry-after'))).toBeGreaterThan(0);
        const other = await limited.http('POST', '/v1/auth/register', { body: { email: `elsewhere-${Date.now()}@example.com`, password: PASSWORD }, headers: { 'x-forwarded-for': '203.0.113.6' } });
        expect(other.status).toBe(201);
        expect(securityEvents(limited.logs, 'rate_limited').some((l) => l.limit === 'registrations' && l.address === '203.0.113.5')).toBe(true);
      });
      it('D7: session creation is rate-limited per user', async () => {
        const u = await limited.user();
        const statuses: number[] = [];
        for (let i = 0; i < 6; i++) statuses.push((await limited.http('POST', '/v1/sessions', { token: u.token, body: {} })).status);
        expect(statuses).toEqual([201, 201, 201, 201, 429, 429]);
        const someoneElse = await limited.user();
        expect((await limited.http('POST', '/v1/sessions', { token: someoneElse.token, body: {} })).status).toBe(201);
      });
      it('D7: an existing email answers 409 conflict (the documented choice), after the same password hashing', async () => {
        const u = await limited.user();
        const again = await limited.http('POST', '/v1/auth/register', { body: { email: u.email.toUpperCase(), password: 'another horse battery' }, headers: { 'x-forwarded-for': '203.0.113.9' } });
        expect(again).toMatchObject({ status: 409, body: { error: { code: 'conflict' } } });
      });
    });

    it('D11: an SSE turn leaves no abort listener behind (no MaxListenersExceededWarning)', async () => {
      const warnings: string[] = [];
      const onWarning = (w: Error) => warnings.push(`${w.name}: ${w.message}`);
      process.on('warning', onWarning);
      try {
        const sessionId = await t.session(me.token);
        const res = await fetch(`${t.url}/v1/sessions/${sessionId}/messages`, {
          method: 'POST',
          headers: { authorization: `Bearer ${me.token}`, 'content-type': 'application/json', accept: 'text/event-stream' },
          body: JSON.stringify({ id: 'sse-long', text: 'give me a long answer please' }),
        });
        const text = await res.text();
        expect(text.match(/event: token/g)!.length).toBeGreaterThan(20);
        expect(text).toContain('event: done');
        await pause(50);
      } finally {
        process.off('warning', onWarning);
      }
      expect(warnings.filter((w) => /MaxListeners/.test(w))).toEqual([]);
    });

    it('GET /v1/sessions/:id gives lastSeq and activeRunId (null when idle, the run while one streams)', async () => {
      const sessionId = await t.session(me.token);
      expect((await t.http('GET', `/v1/sessions/${sessionId}`, { token: me.token })).body).toMatchObject({ id: sessionId, lastSeq: 0, activeRunId: null });
      const s = await t.raw({ token: me.token });
      s.send({ type: 'send', id: 'g1', sessionId, text: 'give me a long answer please' });
      const ack = await s.next('ack');
      await s.next('token');
      const during = await t.http('GET', `/v1/sessions/${sessionId}`, { token: me.token });
      expect(during.body.activeRunId).toBe(ack.runId);
      expect(during.body.lastSeq).toBeGreaterThanOrEqual(2);
      s.send({ type: 'cancel', sessionId, runId: ack.runId });
      const frames = await s.run(ack.runId);
      const after = await t.http('GET', `/v1/sessions/${sessionId}`, { token: me.token });
      expect(after.body).toMatchObject({ lastSeq: frames.at(-1)!.type === 'done' ? (frames.at(-1) as { seq: number }).seq : -1, activeRunId: null });
    });
  });
}

type TestGatewayUser = HostileGateway['user'];

/** D5's second half: an unexpected failure is a 500 with the API's body, and is logged with its request id. */
export function describeHttpFailureLogging(transport: Transport): void {
  describe(`an unexpected storage failure over ${transport}`, () => {
    let t: HostileGateway;
    beforeAll(async () => {
      const storage = await openStorage({});
      const sessions = storage.sessions;
      const failing: Storage = Object.assign(Object.create(Object.getPrototypeOf(storage)) as Storage, storage, {
        sessions: {
          ...sessions,
          create: sessions.create.bind(sessions),
          get: sessions.get.bind(sessions),
          update: sessions.update.bind(sessions),
          delete: sessions.delete.bind(sessions),
          touch: sessions.touch.bind(sessions),
          list: async () => {
            throw new Error('injected: the database went away');
          },
        },
      });
      t = await startHostile(transport, {}, { storage: failing });
    });
    afterAll(async () => t?.stop());

    it('D5: a 500 answers the API error body and is logged at error with its request id', async () => {
      const u = await t.user();
      const r = await t.http('GET', '/v1/sessions', { token: u.token });
      expect(r).toMatchObject({ status: 500, body: { error: { code: 'internal', message: expect.any(String) } } });
      expect(JSON.stringify(r.body)).not.toContain('injected');
      const logged = t.logs.filter((l) => l.level === 'error' && String(l.error).includes('injected'));
      expect(logged.length).toBe(1);
      expect(logged[0]!.requestId).toEqual(expect.any(String));
    });
  });
}
