/**
 * Hostile tokens: forged, confused, expired and revoked access, refresh and resume tokens, on
 * HTTP and on the socket, and the regression tests of D1 and D12.
 */
import type { ServerFrame } from '@switchboard/protocol';
import { expect } from 'vitest';
import { signToken, unsignedToken, uuid, type Case } from './support.js';
import { startHostile, type HostileGateway, type Transport } from './start.js';

type ReadyFrame = Extract<ServerFrame, { type: 'ready' }>;

/** Forged or confused bearer values; `{sub}` is a real user's id. Every one must be refused. */
const forgeries: Array<Case<(sub: string) => Promise<string> | string>> = [
  { name: 'empty', input: () => '' },
  { name: 'garbage', input: () => 'not-a-jwt' },
  { name: 'three empty segments', input: () => '..' },
  { name: 'alg none', input: (sub) => unsignedToken({ sub, typ: 'access' }) },
  { name: 'signed with another secret', input: (sub) => signToken({ typ: 'access' }, { subject: sub, secret: 'another-secret-another-secret-another-1' }) },
  { name: 'typ resume used as access', input: (sub) => signToken({ typ: 'resume', cid: uuid() }, { subject: sub }) },
  { name: 'no typ', input: (sub) => signToken({}, { subject: sub }) },
  { name: 'typ refresh', input: (sub) => signToken({ typ: 'refresh' }, { subject: sub }) },
  { name: 'expired', input: (sub) => signToken({ typ: 'access' }, { subject: sub, expiresIn: Math.floor(Date.now() / 1000) - 60 }) },
  { name: 'wrong issuer', input: (sub) => signToken({ typ: 'access' }, { subject: sub, issuer: 'evil' }) },
  { name: 'no issuer', input: (sub) => signToken({ typ: 'access' }, { subject: sub, issuer: null }) },
  { name: 'no subject', input: () => signToken({ typ: 'access' }) },
  { name: 'not yet valid (nbf)', input: (sub) => signToken({ typ: 'access' }, { subject: sub, notBefore: '1h' }) },
  { name: 'HS512 with the right secret', input: (sub) => signToken({ typ: 'access' }, { subject: sub, alg: 'HS512' }) },
  { name: 'D12: subject that is not a uuid', input: () => signToken({ typ: 'access' }, { subject: 'admin' }) },
  { name: 'D12: subject of a user that does not exist', input: () => signToken({ typ: 'access' }, { subject: uuid() }) },
  { name: 'a token of 8 KiB', input: () => `${'a'.repeat(4000)}.${'b'.repeat(4000)}.${'c'.repeat(200)}` },
];

export function describeTokensHostile(transport: Transport): void {
  describe(`hostile tokens over ${transport}`, () => {
    let t: HostileGateway;
    let victim: Awaited<ReturnType<HostileGateway['user']>>;
    beforeAll(async () => {
      t = await startHostile(transport);
      victim = await t.user();
    });
    afterAll(async () => t?.stop());

    describe('on HTTP', () => {
      it.each(forgeries.map((f) => [f.name, f.input] as const))('refuses %s with 401 on /v1/me and /v1/sessions', async (_name, make) => {
        const token = await make(victim.userId);
        const logged = t.logs.length;
        for (const [method, path] of [['GET', '/v1/me'], ['POST', '/v1/sessions'], ['GET', '/v1/sessions']] as const) {
          const r = await t.http(method, path, { headers: { authorization: `Bearer ${token}` }, body: method === 'POST' ? {} : undefined });
          expect(r.status, `${method} ${path}`).toBe(401);
          expect(r.body.error.code).toBe('unauthorized');
        }
        expect(t.logs.slice(logged).filter((l) => l.level === 'error')).toEqual([]);
      });
      it('refuses schemes other than Bearer and a refresh token used as a bearer', async () => {
        for (const authorization of [`Basic ${Buffer.from('a:b').toString('base64')}`, `Token ${victim.token}`, `Bearer`, `Bearer ${victim.refreshToken}`, `${victim.token}`])
          expect((await t.http('GET', '/v1/me', { headers: { authorization } })).status, authorization.slice(0, 12)).toBe(401);
      });
      it('refuses an access token as a refresh token, and a refresh token after logout', async () => {
        expect((await t.http('POST', '/v1/auth/refresh', { body: { refreshToken: victim.token.slice(0, 500) } })).status).toBe(401);
        const u = await t.user();
        await t.http('POST', '/v1/auth/logout', { body: { refreshToken: u.refreshToken } });
        expect((await t.http('POST', '/v1/auth/refresh', { body: { refreshToken: u.refreshToken } })).status).toBe(401);
      });
    });

    describe('on the socket', () => {
      it.each(forgeries.filter((f) => f.name !== 'empty').map((f) => [f.name, f.input] as const))('closes 4001 after hello with %s', async (_name, make) => {
        const s = await t.raw();
        s.send({ type: 'hello', token: await make(victim.userId) });
        expect(await s.closed()).toBe(4001);
        expect(s.frames.some((f) => f.type === 'ready')).toBe(false);
      });
      it.each(forgeries.filter((f) => f.name !== 'empty').slice(0, 6).map((f) => [f.name, f.input] as const))('refuses the upgrade with 401 for Authorization: Bearer %s', async (_name, make) => {
        await expect(t.raw({ headers: { authorization: `Bearer ${await make(victim.userId)}` } })).rejects.toThrow(/401/);
      });
      it('D12: refuses the upgrade for a token whose user does not exist', async () => {
        const ghost = await signToken({ typ: 'access', sid: uuid() }, { subject: uuid() });
        await expect(t.raw({ headers: { authorization: `Bearer ${ghost}` } })).rejects.toThrow(/401/);
      });
      it('D12: a token whose user does not exist holds no socket slot', async () => {
        const ghostId = uuid();
        const ghost = await signToken({ typ: 'access', sid: uuid() }, { subject: ghostId });
        for (let i = 0; i < 3; i++) {
          const s = await t.raw();
          s.send({ type: 'hello', token: ghost });
          expect(await s.closed()).toBe(4001);
        }
        expect(await t.backends.limiters.sockets.count(ghostId)).toBe(0);
      });
      it('answers a forged resume token with resume_expired and lets the client authenticate afresh', async () => {
        const s = await t.raw();
        s.send({ type: 'hello', resume: { token: await signToken({ typ: 'resume', cid: uuid() }, { subject: victim.userId, secret: 'x'.repeat(40) }) } });
        expect(await s.next('error')).toMatchObject({ code: 'resume_expired' });
        s.send({ type: 'hello', token: victim.token });
        expect(await s.next('ready')).toMatchObject({ userId: victim.userId });
      });
      it("refuses a resume token of another user's connection on a socket authenticated as someone else", async () => {
        const other = await t.user();
        const first = await t.raw({ token: other.token });
        const resume = (first.frames.find((f) => f.type === 'ready') as ReadyFrame).resume;
        first.ws.close();
        const s = await t.raw({ headers: { authorization: `Bearer ${victim.token}` } });
        s.send({ type: 'hello', resume: { token: resume } });
        expect(await s.next('error')).toMatchObject({ code: 'resume_expired' });
      });
      it('refuses an access token in hello.resume and a resume token in hello.token', async () => {
        const a = await t.raw();
        a.send({ type: 'hello', resume: { token: victim.token } });
        expect(await a.next('error')).toMatchObject({ code: 'resume_expired' });
        const first = await t.raw({ token: victim.token });
        const resume = (first.frames.find((f) => f.type === 'ready') as ReadyFrame).resume;
        first.ws.close();
        const b = await t.raw();
        b.send({ type: 'hello', token: resume });
        expect(await b.closed()).toBe(4001);
      });
    });

    describe('D1: resume tokens die with their login', () => {
      /** Signs in afresh (its own refresh family), opens a socket and returns its resume token. */
      async function loginAndResumeToken(email: string) {
        const login = await t.http('POST', '/v1/auth/login', { body: { email, password: 'correct horse battery' } });
        expect(login.status).toBe(200);
        const s = await t.raw({ token: login.body.accessToken });
        const ready = s.frames.find((f) => f.type === 'ready') as ReadyFrame;
        s.ws.close();
        await s.closed();
        return { resume: ready.resume, refreshToken: login.body.refreshToken as string };
      }
      async function tryResume(resume: string) {
        const s = await t.raw();
        s.send({ type: 'hello', resume: { token: resume } });
        const first = await Promise.race([s.next('ready').then((f) => f as ServerFrame), s.next('error').then((f) => f as ServerFrame)]);
        s.ws.close();
        await s.closed();
        return first;
      }

      it('D1: a resume token works while its login is live', async () => {
        const u = await t.user();
        const { resume } = await loginAndResumeToken(u.email);
        expect(await tryResume(resume)).toMatchObject({ type: 'ready', resumed: true, userId: u.userId });
      });
      it('D1: resume token dies with logout', async () => {
        const u = await t.user();
        const { resume, refreshToken } = await loginAndResumeToken(u.email);
        expect((await t.http('POST', '/v1/auth/logout', { body: { refreshToken } })).status).toBe(204);
        expect(await tryResume(resume)).toMatchObject({ type: 'error', code: 'resume_expired' });
      });
      it('D1: resume token dies when refresh-token reuse revokes the family', async () => {
        const u = await t.user();
        const { resume, refreshToken } = await loginAndResumeToken(u.email);
        expect((await t.http('POST', '/v1/auth/refresh', { body: { refreshToken } })).status).toBe(200);
        expect((await t.http('POST', '/v1/auth/refresh', { body: { refreshToken } })).status).toBe(401); // reuse
        expect(await tryResume(resume)).toMatchObject({ type: 'error', code: 'resume_expired' });
      });
      it('D1: a resume token survives a normal refresh rotation (same family)', async () => {
        const u = await t.user();
        const { resume, refreshToken } = await loginAndResumeToken(u.email);
        expect((await t.http('POST', '/v1/auth/refresh', { body: { refreshToken } })).status).toBe(200);
        expect(await tryResume(resume)).toMatchObject({ type: 'ready', resumed: true });
      });
      it('D1: the resume token a resumed ready hands out dies with the same logout', async () => {
        const u = await t.user();
        const { resume, refreshToken } = await loginAndResumeToken(u.email);
        const resumed = (await tryResume(resume)) as ReadyFrame;
        expect(resumed.type).toBe('ready');
        const second = (await tryResume(resumed.resume)) as ReadyFrame;
        expect(second.type).toBe('ready');
        await t.http('POST', '/v1/auth/logout', { body: { refreshToken } });
        expect(await tryResume(second.resume)).toMatchObject({ type: 'error', code: 'resume_expired' });
        expect(await tryResume(resumed.resume)).toMatchObject({ type: 'error', code: 'resume_expired' });
      });
      it("D1: logging out one device leaves another login's resume token alive", async () => {
        const u = await t.user();
        const phone = await loginAndResumeToken(u.email);
        const laptop = await loginAndResumeToken(u.email);
        await t.http('POST', '/v1/auth/logout', { body: { refreshToken: phone.refreshToken } });
        expect(await tryResume(phone.resume)).toMatchObject({ type: 'error', code: 'resume_expired' });
        expect(await tryResume(laptop.resume)).toMatchObject({ type: 'ready' });
      });
      it('D1: a resume token of a user that no longer exists is refused', async () => {
        const forged = await signToken({ typ: 'resume', cid: uuid(), sid: uuid() }, { subject: uuid() });
        expect(await tryResume(forged)).toMatchObject({ type: 'error', code: 'resume_expired' });
      });
      it('D1: a resume token without a login binding (issued before the fix) is refused', async () => {
        const legacy = await signToken({ typ: 'resume', cid: uuid() }, { subject: victim.userId });
        expect(await tryResume(legacy)).toMatchObject({ type: 'error', code: 'resume_expired' });
      });
    });
  });
}
