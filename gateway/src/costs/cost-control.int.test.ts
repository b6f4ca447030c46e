/**
 * Cost control end to end: two gateways on one real Redis (shared spend counters, cache and
 * limiters) and one database, both on the real mock OpenAI server over HTTP with two priced
 * tiers. Routing (done.model/tier), cost in done.usage, the exact answer cache (frame shapes,
 * cost 0, never across users), every daily limit across the two nodes (token budget, per-user
 * spend, global spend counted once, a run cut mid-stream), per-tier output caps, /metrics and
 * GET /v1/me/usage.
 */
import { randomBytes } from 'node:crypto';
import { createMockOpenAI, type MockOpenAI } from '@switchboard/mock-llm';
import type { ServerFrame } from '@switchboard/protocol';
import { Redis } from 'ioredis';
import { startTestGateway, type RawSocket, type TestGateway } from '../../test/support/harness.js';
import { serverRedis, TEST_REDIS_URL } from '../../test/support/redis.js';

const redis = await serverRedis();

const MODELS = [
  { name: 'mini', model: 'gpt-4o-mini', inputPricePer1k: 0.00015, outputPricePer1k: 0.0006 },
  { name: 'big', model: 'gpt-4o', inputPricePer1k: 0.0025, outputPricePer1k: 0.01 },
];
const TIERS = { fast: { models: ['mini'], maxOutputTokens: 300 }, smart: ['big', 'mini'] };
const ARITHMETIC = 'What is (12 + 7) * 3 - 4?';

/** A frame's shape: its type and its keys, without the values (ids, seq and text differ between runs). */
const shape = (f: ServerFrame) => `${f.type}${'phase' in f ? `:${f.phase}` : ''}(${Object.keys(f).sort().join(',')})`;
/** Consecutive token frames are one step (how many there are depends on coalescing). */
const shapes = (frames: ServerFrame[]) => frames.map(shape).filter((s, i, all) => !(s.startsWith('token') && all[i - 1] === s));

interface Turn {
  frames: ServerFrame[];
  done?: Extract<ServerFrame, { type: 'done' }>;
  error?: Extract<ServerFrame, { type: 'error' }>;
  text: string;
}

let sent = 0;
/** Sends `text` and waits for its done, or for the refusal that comes instead of the ack. */
async function turn(s: RawSocket, sessionId: string, text: string, extra: Record<string, unknown> = {}): Promise<Turn> {
  const id = `c${++sent}`;
  s.send({ type: 'send', id, sessionId, text, ...extra });
  const first = await Promise.race([s.next('ack', 20_000), s.next('error', 20_000)]);
  if (first.type === 'error') return { frames: [], error: first, text: '' };
  const frames = await s.run(first.runId, 30_000);
  const done = frames.find((f): f is Extract<ServerFrame, { type: 'done' }> => f.type === 'done');
  const error = s.frames.find((f): f is Extract<ServerFrame, { type: 'error' }> => f.type === 'error' && f.ref === id);
  const answer = frames.map((f) => (f.type === 'token' ? f.text : '')).join('');
  return { frames, done, error, text: answer };
}

const until = async (check: () => Promise<boolean>, what: string) => {
  for (let i = 0; i < 100; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
};

describe.skipIf(!redis.available)(`cost control on two nodes, one Redis, the mock server${redis.available ? '' : ` (skipped: ${redis.reason})`}`, { timeout: 180_000 }, () => {
  let mock: MockOpenAI;
  let client: Redis;
  const nodes: TestGateway[] = [];
  const prefixes: string[] = [];

  /** Two gateways sharing Redis (a fresh key prefix) and one database, with `env` on top of the tiers. */
  async function pair(env: Record<string, string> = {}) {
    const prefix = `test:cost:${randomBytes(4).toString('hex')}:`;
    const full = {
      REDIS_URL: TEST_REDIS_URL,
      OPENAI_BASE_URL: mock.url,
      LLM_MODELS: JSON.stringify(MODELS),
      LLM_TIERS: JSON.stringify(TIERS),
      ANSWER_CACHE: 'true',
      ...env,
    };
    const a = await startTestGateway({ transport: 'uws', env: full, overrides: { redisKeyPrefix: prefix } });
    const b = await startTestGateway({ transport: 'ws', env: full, overrides: { redisKeyPrefix: prefix, storage: a.backends.storage } });
    nodes.push(b, a);
    prefixes.push(prefix);
    const user = async () => {
      const u = await a.user();
      return { ...u, a: await a.raw({ token: u.token }), b: await b.raw({ token: u.token }) };
    };
    return { a, b, prefix, user };
  }

  beforeAll(async () => {
    mock = await createMockOpenAI();
    client = new Redis(TEST_REDIS_URL);
  });
  afterAll(async () => {
    for (const n of nodes) await n.stop().catch(() => {});
    for (const prefix of prefixes) {
      const keys = await client.keys(`${prefix}*`);
      if (keys.length) await client.del(...keys);
    }
    client?.disconnect();
    await mock?.close();
  });

  it('routes greetings to fast and arithmetic to smart, prices them, and serves a repeat from the cache with the same frame shapes at cost 0', async () => {
    const { a, b, user } = await pair();
    const u = await user();
    const first = await a.session(u.token);
    const hello = await turn(u.a, first, 'hello');
    expect(hello.done).toMatchObject({ reason: 'stop', model: 'mini', tier: 'fast' });
    expect(hello.done?.usage?.costUsd).toBeGreaterThan(0);
    expect(hello.done?.usage?.cached).toBeUndefined();
    const sum = await turn(u.a, first, ARITHMETIC);
    expect(sum.done).toMatchObject({ reason: 'stop', model: 'big', tier: 'smart' });
    expect(sum.text).toContain('53');
    expect(sum.frames.some((f) => f.type === 'tool' && f.name === 'calculator')).toBe(true);
    // The big model costs more per token than the mini one.
    expect(sum.done!.usage!.costUsd!).toBeGreaterThan(hello.done!.usage!.costUsd!);

    // The same questions in a new session, on the other node: the same frames, from the cache, for free.
    const requests = mock.stats.requests;
    const second = await a.session(u.token);
    const helloAgain = await turn(u.b, second, 'Hello!');
    const sumAgain = await turn(u.b, second, ARITHMETIC);
    expect(mock.stats.requests).toBe(requests);
    for (const [live, cached] of [
      [hello, helloAgain],
      [sum, sumAgain],
    ] as const) {
      expect(cached.done).toMatchObject({ reason: 'stop', model: live.done!.model, tier: live.done!.tier, usage: { inputTokens: 0, outputTokens: 0, costUsd: 0, cached: true } });
      expect(cached.text).toBe(live.text);
      expect(shapes(cached.frames.filter((f) => f.type !== 'done'))).toEqual(shapes(live.frames.filter((f) => f.type !== 'done')));
      expect(Object.keys(cached.done!).sort()).toEqual(Object.keys(live.done!).sort());
    }

    // Spend per model: /metrics and the user's own usage route.
    const metrics = await a.http('GET', '/metrics');
    expect(metrics.body).toMatch(/switchboard_llm_cost_total\{model="mini"\} [0-9.e-]+/);
    expect(metrics.body).toMatch(/switchboard_llm_cost_total\{model="big"\} [0-9.e-]+/);
    expect(metrics.body).toMatch(/switchboard_route_decisions_total\{tier="fast",rule="short"\} 1/);
    expect(metrics.body).toMatch(/switchboard_route_decisions_total\{tier="smart",rule="tools"\} 1/);
    expect(metrics.body).toMatch(/switchboard_cache_requests_total\{cache="answer",result="miss"\} 2/);
    expect(await b.http('GET', '/metrics').then((r) => r.body)).toMatch(/switchboard_cache_requests_total\{cache="answer",result="hit"\} 2/);
    expect(metrics.body).not.toContain(u.userId);
    let usage!: { status: number; body: any };
    await until(async () => {
      usage = await b.http('GET', '/v1/me/usage?days=2', { token: u.token });
      return usage.body?.days?.[0]?.models?.every((m: { runs: number }) => m.runs === 2);
    }, 'spend rows');
    const models = Object.fromEntries(usage.body.days[0].models.map((m: { model: string }) => [m.model, m]));
    expect(models.mini).toMatchObject({ runs: 2, cachedRuns: 1, costUsd: hello.done!.usage!.costUsd });
    expect(models.big).toMatchObject({ runs: 2, cachedRuns: 1, costUsd: sum.done!.usage!.costUsd });
    expect(usage.body.totalCostUsd).toBeCloseTo(hello.done!.usage!.costUsd! + sum.done!.usage!.costUsd!, 9);
    expect(usage.body.today).toMatchObject({ spendLimitUsd: null, remainingUsd: null });
    expect((await a.http('GET', '/v1/me/usage?days=0', { token: u.token })).status).toBe(400);
    expect((await a.http('GET', '/v1/me/usage?days=abc', { token: u.token })).status).toBe(400);
    expect((await a.http('GET', '/v1/me/usage')).status).toBe(401);
  });

  it('never serves one user an answer cached for another, and caches no answer that used an impure tool', async () => {
    const { a, user } = await pair();
    const alice = await user();
    const bob = await user();
    const first = await turn(alice.a, await a.session(alice.token), 'tell me a fun fact');
    expect(first.done?.usage?.cached).toBeUndefined();
    const again = await turn(alice.b, await a.session(alice.token), 'tell me a fun fact');
    expect(again.done?.usage).toMatchObject({ cached: true, costUsd: 0 });
    const other = await turn(bob.a, await a.session(bob.token), 'tell me a fun fact');
    expect(other.done?.usage?.cached).toBeUndefined();
    expect(other.done?.usage?.costUsd).toBeGreaterThan(0);

    mock.setScenario('gpt-4o', { toolCall: { name: 'clock', arguments: {} }, textAfterTool: 'It is later than you think.' });
    try {
      const clock = await turn(alice.a, await a.session(alice.token), 'what time is it');
      expect(clock.frames.some((f) => f.type === 'tool' && f.name === 'clock')).toBe(true);
      const clockAgain = await turn(alice.a, await a.session(alice.token), 'what time is it');
      expect(clockAgain.done?.usage?.cached).toBeUndefined();
    } finally {
      mock.setScenario('gpt-4o', undefined);
    }
  });

  it('answers a similar opening question from the same user only, with the semantic cache', async () => {
    const { a, b, user } = await pair({ ANSWER_CACHE: 'false', SEMANTIC_CACHE: 'true', SEMANTIC_CACHE_THRESHOLD: '0.8' });
    const alice = await user();
    const bob = await user();
    const first = await turn(alice.a, await a.session(alice.token), 'tell me an interesting fact about barn owls');
    expect(first.done?.usage?.cached).toBeUndefined();
    await new Promise((r) => setTimeout(r, 200)); // the question is stored after done
    const similar = await turn(alice.b, await a.session(alice.token), 'tell me an interesting fact about barn owls please');
    expect(similar.done?.usage).toMatchObject({ cached: true, costUsd: 0 });
    expect(similar.text).toBe(first.text);
    const other = await turn(bob.a, await a.session(bob.token), 'tell me an interesting fact about barn owls');
    expect(other.done?.usage?.cached).toBeUndefined();
    // Not for a later turn of a conversation, nor for a question about the time.
    const sessionId = await a.session(alice.token);
    await turn(alice.a, sessionId, 'hello');
    expect((await turn(alice.a, sessionId, 'tell me an interesting fact about barn owls')).done?.usage?.cached).toBeUndefined();
    expect(await b.http('GET', '/metrics').then((r) => r.body)).toMatch(/switchboard_cache_requests_total\{cache="semantic",result="hit"\} 1/);
  });

  it('refuses the next run on either node once a user spent the daily spend limit, with quota_exceeded and retryAfterMs', async () => {
    const { a, b, user } = await pair({ DAILY_SPEND_LIMIT_USD: '0.001' });
    const u = await user();
    const other = await user();
    const sum = await turn(u.a, await a.session(u.token), ARITHMETIC);
    expect(sum.done?.reason).toBe('stop');
    expect(sum.done!.usage!.costUsd!).toBeGreaterThan(0.001);
    const refused = await turn(u.b, await a.session(u.token), 'hello');
    expect(refused.error).toMatchObject({ code: 'quota_exceeded', retryable: false, message: expect.stringMatching(/your daily spend limit/) });
    expect(refused.error!.retryAfterMs).toBeGreaterThan(0);
    expect(refused.error!.retryAfterMs).toBeLessThanOrEqual(24 * 3600 * 1000);
    // Someone else is not affected.
    expect((await turn(other.b, await a.session(other.token), 'hello')).done?.reason).toBe('stop');
    const usage = await a.http('GET', '/v1/me/usage?days=1', { token: u.token });
    expect(usage.body.today).toMatchObject({ spendLimitUsd: 0.001, remainingUsd: 0 });
    expect(await b.http('GET', '/metrics').then((r) => r.body)).toMatch(/switchboard_spend_limit_reached_total\{limit="user",phase="before"\} 1/);
  });

  it('cuts a run that crosses the limit mid-stream with done{reason:"length"} and an error frame, then refuses the next', async () => {
    const { a, user } = await pair({ DAILY_SPEND_LIMIT_USD: '0.00005', ANSWER_CACHE: 'false' });
    mock.setScenario('gpt-4o-mini', { responseTokens: 280 });
    try {
      const u = await user();
      const sessionId = await a.session(u.token);
      const long = await turn(u.a, sessionId, 'hello');
      expect(long.done).toMatchObject({ reason: 'length', model: 'mini', tier: 'fast' });
      expect(long.error).toMatchObject({ code: 'quota_exceeded', retryable: false });
      expect(long.error!.retryAfterMs).toBeGreaterThan(0);
      expect(long.done!.usage!.outputTokens).toBeLessThan(280);
      expect(long.done!.usage!.costUsd!).toBeGreaterThan(0);
      const next = await turn(u.b, sessionId, 'hello');
      expect(next.error).toMatchObject({ code: 'quota_exceeded' });
    } finally {
      mock.setScenario('gpt-4o-mini', undefined);
    }
  });

  it('shares the global daily spend limit across both nodes and counts each run once', async () => {
    const { a, b, prefix, user } = await pair({ GLOBAL_DAILY_SPEND_LIMIT_USD: '0.0025', ANSWER_CACHE: 'false' });
    const [u1, u2, u3] = [await user(), await user(), await user()];
    const r1 = await turn(u1.a, await a.session(u1.token), ARITHMETIC);
    const r2 = await turn(u2.b, await a.session(u2.token), ARITHMETIC);
    const spent = r1.done!.usage!.costUsd! + r2.done!.usage!.costUsd!;
    expect(spent).toBeGreaterThan(0.0025);
    const day = new Date().toISOString().slice(0, 10);
    expect(Number(await client.get(`${prefix}spend:g:${day}`))).toBe(Math.round(spent * 1e9));
    for (const s of [u3.a, u3.b]) {
      const refused = await turn(s, await a.session(u3.token), 'hello');
      expect(refused.error).toMatchObject({ code: 'quota_exceeded', message: expect.stringMatching(/service's daily spend limit/) });
      expect(refused.error!.retryAfterMs).toBeGreaterThan(0);
    }
    expect(await b.http('GET', '/metrics').then((r) => r.body)).toMatch(/switchboard_spend_limit_reached_total\{limit="global",phase="before"\} 1/);
  });

  it('shares the daily token budget across both nodes', async () => {
    const { a, user } = await pair({ DAILY_TOKEN_BUDGET: '400', ANSWER_CACHE: 'false' });
    const u = await user();
    const sessionId = await a.session(u.token);
    expect((await turn(u.a, sessionId, 'hello')).done?.reason).toBe('stop');
    let refused: Turn | undefined;
    for (let i = 0; i < 6 && !refused; i++) {
      await new Promise((r) => setTimeout(r, 100)); // tokens are charged after done
      const t = await turn(i % 2 ? u.a : u.b, sessionId, 'hello');
      if (t.error && !t.done) refused = t;
    }
    expect(refused?.error).toMatchObject({ code: 'quota_exceeded', message: expect.stringMatching(/token budget/) });
  });

  it('caps output tokens per tier, and honours send.tier only where the deployment allows it', async () => {
    const { a, user } = await pair({ ROUTER_CLIENT_TIERS: 'smart', LLM_MAX_OUTPUT_TOKENS: '500', ANSWER_CACHE: 'false' });
    const u = await user();
    const sessionId = await a.session(u.token);
    const from = mock.stats.log.length;
    expect((await turn(u.a, sessionId, 'hello')).done).toMatchObject({ tier: 'fast' });
    expect((await turn(u.a, sessionId, 'hello', { tier: 'smart' })).done).toMatchObject({ tier: 'smart', model: 'big' });
    const bodies = mock.stats.log.slice(from).map((r) => r.body as { model: string; max_tokens?: number });
    expect(bodies.find((r) => r.model === 'gpt-4o-mini')?.max_tokens).toBe(300);
    expect(bodies.find((r) => r.model === 'gpt-4o')?.max_tokens).toBe(500);

    const strict = await pair({ ANSWER_CACHE: 'false' });
    const v = await strict.user();
    expect((await turn(v.a, await strict.a.session(v.token), 'hello', { tier: 'smart' })).done).toMatchObject({ tier: 'fast' });
    v.a.send({ type: 'send', id: 'bad-tier', sessionId: await strict.a.session(v.token), text: 'hi', tier: 'NOT A TIER' });
    expect(await v.a.next('error')).toMatchObject({ code: 'bad_frame' });
  });
});
