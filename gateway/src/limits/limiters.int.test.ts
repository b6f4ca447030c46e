/**
 * The limiters' contract on real Redis (`TEST_REDIS_URL`), each limiter set on its own connection
 * (a separate node), plus the in-memory insurance while Redis is unreachable. Always runs in CI;
 * elsewhere skipped, with the reason, when Redis is down.
 */
import { once } from 'node:events';
import { Redis } from 'ioredis';
import { redisTestSpace, type RedisTestSpace } from '../../test/support/redis-harness.js';
import { serverRedis } from '../../test/support/redis.js';
import { createLimiters } from './limiters.js';
import { describeLimitersContract } from '../../test/contracts/limiters.contract.js';

const server = await serverRedis();

if (server.available) {
  describeLimitersContract('Redis', {
    shared: true,
    async harness() {
      const space = redisTestSpace('rl');
      return {
        create: async (config, options) => createLimiters(config, await space.ready(), { keyPrefix: space.prefix, ...options }),
        close: () => space.close(),
      };
    },
  });

  describe('Redis limiters with Redis unreachable', () => {
    let space: RedisTestSpace;
    beforeEach(() => {
      space = redisTestSpace('rl');
    });
    afterEach(() => space.close());

    it('keep limiting per node in memory while disconnected, and count on Redis again after', async () => {
      const redis = await space.ready();
      const limits = createLimiters({ sendsPerMinute: 2, socketsPerUser: 1, dailyTokenBudget: 10 }, redis, { keyPrefix: space.prefix });
      expect(limits.backend()).toBe('redis');
      expect(await limits.sends.consume('u1')).toEqual({ ok: true });
      const onRedis = await limits.sockets.acquire('u1');
      expect(onRedis.ok).toBe(true);

      redis.disconnect();
      await once(redis, 'end');
      expect(limits.backend()).toBe('redis-insurance');
      const whileDown = [await limits.sends.consume('u1'), await limits.sends.consume('u1'), await limits.sends.consume('u1')];
      expect(whileDown.map((d) => d.ok)).toEqual([true, true, false]);
      expect(whileDown[2]).toMatchObject({ code: 'rate_limited', limit: 'sends' });
      const inMemory = await limits.sockets.acquire('u1');
      expect(inMemory.ok).toBe(true);
      expect((await limits.sockets.acquire('u1')).ok).toBe(false);
      if (inMemory.ok) await inMemory.release();
      if (onRedis.ok) await onRedis.release(); // Redis is down: left to the counter's ttl, no throw
      expect(await limits.tokens.consume('u1', 11)).toMatchObject({ ok: false, code: 'quota_exceeded' });

      await redis.connect();
      expect(limits.backend()).toBe('redis');
      // Redis still holds the one send counted before the outage
      expect(await limits.sends.consume('u1')).toEqual({ ok: true });
      expect(await limits.sends.consume('u1')).toMatchObject({ ok: false, limit: 'sends' });
      expect(await limits.tokens.remaining('u1')).toBe(10);
    });

    it('answer at once in memory when Redis never connected', async () => {
      const redis = new Redis({ port: 1, lazyConnect: true });
      const limits = createLimiters({ sendsPerMinute: 1 }, redis, { keyPrefix: space.prefix });
      expect(limits.backend()).toBe('redis-insurance');
      expect(await limits.sends.consume('u1')).toEqual({ ok: true });
      expect(await limits.sends.consume('u1')).toMatchObject({ ok: false, code: 'rate_limited' });
      expect((await limits.sockets.acquire('u1')).ok).toBe(true);
      expect(await limits.tokens.check('u1')).toEqual({ ok: true });
      redis.disconnect();
    });
  });
} else {
  describe.skip(`Redis limiters: ${server.reason}`, () => {
    it('needs Redis', () => {});
  });
}
