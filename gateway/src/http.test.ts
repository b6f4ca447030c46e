import { startTestGateway, type TestGateway } from '../test/support/harness.js';

describe('HTTP API', () => {
  let t: TestGateway;
  beforeAll(async () => {
    t = await startTestGateway({ transport: 'uws', env: { MAX_BODY_BYTES: '4096', LOGIN_ATTEMPTS_PER_15_MIN: '3' } });
  });
  afterAll(async () => t?.stop());

  describe('auth', () => {
    it('registers, logs in (JSON and OAuth2 form) and answers /v1/me', async () => {
      const u = await t.user();
      const login = await t.http('POST', '/v1/auth/login', { body: { email: u.email.toUpperCase(), password: 'correct horse battery' } });
      expect(login.status).toBe(200);
      expect(login.body).toMatchObject({ user: { id: u.userId, email: u.email } });
      const form = await t.http('POST', '/v1/auth/login', {
        raw: new URLSearchParams({ username: u.email, password: 'correct horse battery' }).toString(),
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });
      expect(form.status).toBe(200);
      const me = await t.http('GET', '/v1/me', { token: login.body.accessToken });
      expect(me.status).toBe(200);
      expect(me.body).toEqual({ id: u.userId, email: u.email, createdAt: expect.any(String) });
      expect(JSON.stringify(me.body)).not.toMatch(/hash|password/i);
    });
    it('refuses weak passwords, bad emails, duplicates and malformed bodies with clear messages', async () => {
      const weak = await t.http('POST', '/v1/auth/register', { body: { email: 'weak@example.com', password: 'short' } });
      expect(weak).toMatchObject({ status: 400, body: { error: { code: 'bad_frame', message: expect.stringMatching(/at least 10/) } } });
      const bad = await t.http('POST', '/v1/auth/register', { body: { email: 'nope', password: 'correct horse battery' } });
      expect(bad.status).toBe(400);
      expect(bad.body.error.message).toMatch(/email/);
      const u = await t.user();
      const dup = await t.http('POST', '/v1/auth/register', { body: { email: u.email, password: 'correct horse battery' } });
      expect(dup).toMatchObject({ status: 409, body: { error: { code: 'conflict' } } });
      const garbage = await t.http('POST', '/v1/auth/register', { raw: '{"email":' });
      expect(garbage).toMatchObject({ status: 400, body: { error: { message: 'body is not valid JSON' } } });
      const big = await t.http('POST', '/v1/auth/register', { raw: JSON.stringify({ email: 'a@b.co', password: 'x'.repeat(5000) }) });
      expect(big).toMatchObject({ status: 413, body: { error: { code: 'too_large' } } });
    });
    it('gives the same answer for an unknown account and a wrong password, and limits attempts', async () => {
      const u = await t.user();
      const unknown = await t.http('POST', '/v1/auth/login', { body: { email: 'ghost@example.com', password: 'correct horse battery' } });
      const wrong = await t.http('POST', '/v1/auth/login', { body: { email: u.email, password: 'wrong horse battery' } });
      expect(unknown.status).toBe(401);
      expect(wrong.body).toEqual(unknown.body);
      await t.http('POST', '/v1/auth/login', { body: { email: u.email, password: 'wrong horse battery' } });
      await t.http('POST', '/v1/auth/login', { body: { email: u.email, password: 'wrong horse battery' } });
      const limited = await t.http('POST', '/v1/auth/login', { body: { email: u.email, password: 'correct horse battery' } });
      expect(limited.status).toBe(429);
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    });
    it('rotates refresh tokens and revokes the family when an old one is reused', async () => {
      const u = await t.user();
      const r1 = await t.http('POST', '/v1/auth/refresh', { body: { refreshToken: u.refreshToken } });
      expect(r1.status).toBe(200);
      expect(r1.body.refreshToken).not.toBe(u.refreshToken);
      const reuse = await t.http('POST', '/v1/auth/refresh', { body: { refreshToken: u.refreshToken } });
      expect(reuse.status).toBe(401);
      const afterReuse = await t.http('POST', '/v1/auth/refresh', { body: { refreshToken: r1.body.refreshToken } });
      expect(afterReuse.status).toBe(401);
      expect((await t.http('POST', '/v1/auth/refresh', { body: {} })).status).toBe(400);
    });
    it('logs out by revoking the refresh token family', async () => {
      const u = await t.user();
      expect((await t.http('POST', '/v1/auth/logout', { body: { refreshToken: u.refreshToken } })).status).toBe(204);
      expect((await t.http('POST', '/v1/auth/refresh', { body: { refreshToken: u.refreshToken } })).status).toBe(401);
    });
  });

  describe('sessions', () => {
    it('answers storage refusals with their status, not 500: a malformed cursor is a 400', async () => {
      const u = await t.user();
      const bad = await t.http('GET', '/v1/sessions?before=not-a-uuid', { token: u.token });
      expect(bad).toMatchObject({ status: 400, body: { error: { code: 'bad_frame', message: 'before must be a session id' } } });
      const transcript = await t.http('GET', `/v1/sessions/${await t.session(u.token)}/messages?before=not-a-number`, { token: u.token });
      expect(transcript.status).toBeLessThan(500);
    });
    it('requires a valid access token on every session route', async () => {
      for (const [method, path] of [
        ['GET', '/v1/sessions'],
        ['POST', '/v1/sessions'],
        ['GET', '/v1/sessions/x'],
        ['PATCH', '/v1/sessions/x'],
        ['DELETE', '/v1/sessions/x'],
        ['GET', '/v1/sessions/x/messages'],
        ['POST', '/v1/sessions/x/messages'],
        ['GET', '/v1/me'],
      ] as const) {
        expect((await t.http(method, path)).status, `${method} ${path}`).toBe(401);
        expect((await t.http(method, path, { token: 'garbage' })).status, `${method} ${path}`).toBe(401);
      }
    });
    it("answers 404 for another user's session on every route", async () => {
      const alice = await t.user();
      const bob = await t.user();
      const id = await t.session(alice.token, 'private');
      for (const [method, path, body] of [
        ['GET', `/v1/sessions/${id}`, undefined],
        ['PATCH', `/v1/sessions/${id}`, { title: 'mine now' }],
        ['DELETE', `/v1/sessions/${id}`, undefined],
        ['GET', `/v1/sessions/${id}/messages`, undefined],
        ['POST', `/v1/sessions/${id}/messages`, { id: 'm', text: 'hi' }],
      ] as const) {
        const r = await t.http(method, path, { token: bob.token, body });
        expect(r.status, `${method} ${path}`).toBe(404);
        expect(r.body.error.code).toBe('not_found');
      }
      expect((await t.http('GET', `/v1/sessions/${id}`, { token: alice.token })).body.title).toBe('private');
      const list = await t.http('GET', '/v1/sessions', { token: bob.token });
      expect(list.body.sessions.map((s: { id: string }) => s.id)).not.toContain(id);
    });
    it('creates, lists, renames and deletes; validates bodies and params', async () => {
      const u = await t.user();
      const id = await t.session(u.token);
      expect((await t.http('PATCH', `/v1/sessions/${id}`, { token: u.token, body: { title: '' } })).status).toBe(400);
      expect((await t.http('POST', '/v1/sessions', { token: u.token, body: { title: 'x'.repeat(300) } })).status).toBe(400);
      expect((await t.http('GET', '/v1/sessions?limit=0', { token: u.token })).status).toBe(400);
      const renamed = await t.http('PATCH', `/v1/sessions/${id}`, { token: u.token, body: { title: 'Renamed' } });
      expect(renamed).toMatchObject({ status: 200, body: { id, title: 'Renamed' } });
      expect((await t.http('GET', '/v1/sessions', { token: u.token })).body.sessions).toHaveLength(1);
      expect((await t.http('DELETE', `/v1/sessions/${id}`, { token: u.token })).status).toBe(204);
      expect((await t.http('GET', `/v1/sessions/${id}`, { token: u.token })).status).toBe(404);
      expect((await t.http('GET', '/v1/sessions/not-a-uuid', { token: u.token })).status).toBe(404);
    });
    it('runs a non-streaming turn, stores the transcript and titles the session', async () => {
      const u = await t.user();
      const id = await t.session(u.token);
      const r = await t.http('POST', `/v1/sessions/${id}/messages`, { token: u.token, body: { id: 'm1', text: 'What is 12*(3+4)?' } });
      expect(r.status).toBe(200);
      expect(r.body.text).toContain('84');
      expect(r.body.done).toMatchObject({ type: 'done', reason: 'stop' });
      expect(r.body.frames.map((f: { seq: number }) => f.seq)).toEqual(r.body.frames.map((_: unknown, i: number) => i + 1));
      // Transcript and title are written after done, off the stream's path.
      let page;
      for (let i = 0; i < 50; i++) {
        page = await t.http('GET', `/v1/sessions/${id}/messages`, { token: u.token });
        if (page.body.messages.length >= 3) break;
        await new Promise((res) => setTimeout(res, 50));
      }
      expect(page!.body.messages.map((m: { role: string }) => m.role)).toEqual(['user', 'tool', 'assistant']);
      expect((await t.http('GET', `/v1/sessions/${id}`, { token: u.token })).body.title).toBe('What is 12*(3+4)?');
      const again = await t.http('POST', `/v1/sessions/${id}/messages`, { token: u.token, body: { id: 'm1', text: 'What is 12*(3+4)?' } });
      expect(again.body.runId).toBe(r.body.runId);
    });
    it('streams a turn as server-sent events and resumes with Last-Event-ID', async () => {
      const u = await t.user();
      const id = await t.session(u.token);
      const res = await fetch(`${t.url}/v1/sessions/${id}/messages`, {
        method: 'POST',
        headers: { authorization: `Bearer ${u.token}`, 'content-type': 'application/json', accept: 'text/event-stream' },
        body: JSON.stringify({ id: 'sse1', text: 'What is 2+3?' }),
      });
      expect(res.headers.get('content-type')).toBe('text/event-stream');
      const text = await res.text();
      const ids = [...text.matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]));
      expect(ids[0]).toBe(1);
      expect(text).toMatch(/event: done/);
      const resumed = await fetch(`${t.url}/v1/sessions/${id}/messages`, {
        method: 'POST',
        headers: { authorization: `Bearer ${u.token}`, 'content-type': 'application/json', accept: 'text/event-stream', 'last-event-id': String(ids.at(-3)) },
        body: JSON.stringify({ id: 'sse1', text: 'What is 2+3?' }),
      });
      const ids2 = [...(await resumed.text()).matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]));
      expect(ids2).toEqual(ids.slice(-2));
    });
  });

  describe('ops', () => {
    it('serves healthz, readyz, the chat page and its client bundle; 404 and 405 in the error shape', async () => {
      expect((await t.http('GET', '/healthz')).body).toEqual({ status: 'ok' });
      expect((await t.http('GET', '/readyz')).body).toMatchObject({ status: 'ready', database: 'pglite', model: 'local' });
      const page = await fetch(`${t.url}/`);
      expect(await page.text()).toContain('/client.js');
      const bundle = await fetch(`${t.url}/client.js`);
      expect(await bundle.text()).toContain('switchboard.v1');
      expect((await t.http('GET', '/nope')).body.error.code).toBe('not_found');
      expect((await t.http('PUT', '/v1/sessions')).status).toBe(405);
    });
  });
});
