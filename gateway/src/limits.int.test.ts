import { randomBytes } from 'node:crypto';
import { serverRedis, TEST_REDIS_URL } from '../test/support/redis.js';
import { startTestGateway, type TestGateway } from '../test/support/harness.js';

const limitsEnv = {
  RATE_SENDS_PER_MINUTE: '3',
  RATE_SOCKETS_PER_USER: '2',
  RATE_CONNECTIONS_PER_IP_PER_MINUTE: '40',
};

describe('limits on one node', () => {
  let t: TestGateway;
  beforeAll(async () => {
    t = await startTestGateway({ transport: 'uws', env: limitsEnv });
  });
  afterAll(async () => t?.stop());

  it('limits sends per user per minute with rate_limited and retryAfterMs', async () => {
    const u = await t.user();
    const s = await t.raw({ token: u.token });
    const sessions = await Promise.all([1, 2, 3, 4].map(() => t.session(u.token)));
    for (const [i, sessionId] of sessions.slice(0, 3).entries()) {
      s.send({ type: 'send', id: `ok${i}`, sessionId, text: 'hi' });
      const f = await Promise.race([s.next('ack'), s.next('error')]);
      if (f.type === 'error') throw new Error(JSON.stringify(f));
      await s.run(f.runId);
    }
    s.send({ type: 'send', id: 'over', sessionId: sessions[3], text: 'hi' });
    const err = await s.next('error');
    expect(err).toMatchObject({ code: 'rate_limited', ref: 'over', retryable: true });
    expect(err.retryAfterMs).toBeGreaterThan(0);
    const http = await t.http('POST', `/v1/sessions/${sessions[3]}/messages`, { token: u.token, body: { id: 'h', text: 'hi' } });
    expect(http.status).toBe(429);
    expect(Number(http.headers.get('retry-after'))).toBeGreaterThan(0);
  });

  it('limits concurrent sockets per user and frees the slot on close', async () => {
    const u = await t.user();
    const a = await t.raw({ token: u.token });
    await t.raw({ token: u.token });
    const third = await t.raw();
    third.send({ type: 'hello', token: u.token });
    expect(await third.next('error')).toMatchObject({ code: 'rate_limited' });
    expect(await third.closed()).toBe(4008);
    a.ws.close();
    await a.closed();
    await new Promise((r) => setTimeout(r, 100));
    const fourth = await t.raw({ token: u.token });
    expect(fourth.frames[0]).toMatchObject({ type: 'ready' });
  });

});

describe('quotas on a small gateway', () => {
  let t: TestGateway;
  beforeAll(async () => {
    t = await startTestGateway({ transport: 'ws', env: { RATE_CONNECTIONS_PER_IP_PER_MINUTE: '3', DAILY_TOKEN_BUDGET: '60' } });
  });
  afterAll(async () => t?.stop());

  it('refuses runs once the daily token budget is spent', async () => {
    const u = await t.user();
    const s = await t.raw({ token: u.token });
    const sessionId = await t.session(u.token);
    let refused;
    for (let i = 0; i < 10 && !refused; i++) {
      s.send({ type: 'send', id: `b${i}`, sessionId, text: 'tell me something' });
      const f = await Promise.race([s.next('ack'), s.next('error')]);
      if (f.type === 'error') refused = f;
      else await s.run(f.runId);
      await new Promise((r) => setTimeout(r, 50)); // usage is charged after done
    }
    expect(refused).toMatchObject({ code: 'quota_exceeded', retryable: false });
  });

  it('counts forwarded addresses separately only behind a trusted proxy', async () => {
    const proxied = await startTestGateway({ transport: 'uws', env: { RATE_CONNECTIONS_PER_IP_PER_MINUTE: '1', TRUST_PROXY: '127.0.0.1' } });
    const direct = await startTestGateway({ transport: 'ws', env: { RATE_CONNECTIONS_PER_IP_PER_MINUTE: '1' } });
    try {
      // Behind the trusted proxy each forwarded client has its own budget…
      await proxied.raw({ headers: { 'x-forwarded-for': '198.51.100.1' } });
      await proxied.raw({ headers: { 'x-forwarded-for': '198.51.100.2' } });
      await expect(proxied.raw({ headers: { 'x-forwarded-for': '198.51.100.1' } })).rejects.toThrow(/429/);
      // …and without TRUST_PROXY a forged header changes nothing.
      await direct.raw({ headers: { 'x-forwarded-for': '198.51.100.1' } });
      await expect(direct.raw({ headers: { 'x-forwarded-for': '198.51.100.2' } })).rejects.toThrow(/429/);
    } finally {
      await proxied.stop();
      await direct.stop();
    }
  });

  it('answers an upgrade over the per-address connection rate with 429', async () => {
    await t.raw();
    await t.raw();
    await expect(t.raw()).rejects.toThrow(/429/);
  });
});

const redis = await serverRedis();
describe.skipIf(!redis.available)(`limits across two nodes on one Redis${redis.available ? '' : ` (skipped: ${redis.reason})`}`, () => {
  it('counts sends once across nodes', async () => {
    const prefix = `test:limits:${randomBytes(4).toString('hex')}:`;
    const env = { ...limitsEnv, REDIS_URL: TEST_REDIS_URL };
    const a = await startTestGateway({ transport: 'uws', env, overrides: { redisKeyPrefix: prefix } });
    const b = await startTestGateway({ transport: 'ws', env, overrides: { redisKeyPrefix: prefix, storage: a.backends.storage } });
    try {
      const u = await a.user();
      const sa = await a.raw({ token: u.token });
      const sb = await b.raw({ token: u.token });
      const sessions = await Promise.all([1, 2, 3, 4].map(() => a.session(u.token)));
      for (const [i, sessionId] of sessions.slice(0, 3).entries()) {
        const s = i % 2 ? sb : sa;
        s.send({ type: 'send', id: `x${i}`, sessionId, text: 'hi' });
        await s.run((await s.next('ack')).runId);
      }
      sb.send({ type: 'send', id: 'over', sessionId: sessions[3], text: 'hi' });
      expect(await sb.next('error')).toMatchObject({ code: 'rate_limited' });
    } finally {
      await b.stop();
      await a.stop();
    }
  });
});
