/**
 * The run lock and idempotency contracts on real Redis (`TEST_REDIS_URL`), every store on its own
 * connection (a separate node). Always runs in CI; elsewhere skipped, with the reason, when Redis
 * is down.
 */
import { describeSharedStateContract } from '../../../test/contracts/shared-state.contract.js';
import { createRedisIdempotencyStore, createRedisRunLock } from './shared-state.js';
import { redisTestSpace, type RedisTestSpace } from '../../../test/support/redis-harness.js';
import { serverRedis, sleep } from '../../../test/support/redis.js';

const server = await serverRedis();

if (server.available) {
  describeSharedStateContract('Redis', {
    shared: true,
    ttlMs: 150,
    async harness() {
      const space = redisTestSpace('coord');
      return {
        lock: async () => createRedisRunLock(space.connect(), { keyPrefix: space.prefix }),
        ids: async () => createRedisIdempotencyStore(space.connect(), { keyPrefix: space.prefix }),
        elapse: sleep,
        close: () => space.close(),
      };
    },
  });

  describe('Redis shared state', () => {
    let space: RedisTestSpace;
    beforeEach(() => {
      space = redisTestSpace('coord');
    });
    afterEach(() => space.close());

    it('lets exactly one of many racing nodes take a lease', async () => {
      const locks = Array.from({ length: 8 }, () => createRedisRunLock(space.connect(), { keyPrefix: space.prefix }));
      const won = await Promise.all(locks.map((l, i) => l.acquire('s1', `run-${i}`, 10_000)));
      expect(won.filter(Boolean)).toHaveLength(1);
      expect(await locks[0]!.holder('s1')).toBe(`run-${won.indexOf(true)}`);
    });

    it('sets the lease length on the key and renews it', async () => {
      const redis = space.connect();
      const lock = createRedisRunLock(redis, { keyPrefix: space.prefix });
      await lock.acquire('s1', 'run-a', 5_000);
      expect(await redis.pttl(`${space.prefix}lock:{s1}`)).toBeLessThanOrEqual(5_000);
      await lock.renew('s1', 'run-a', 60_000);
      expect(await redis.pttl(`${space.prefix}lock:{s1}`)).toBeGreaterThan(5_000);
    });

    it('rejects lease lengths and ids Redis would refuse', async () => {
      const lock = createRedisRunLock(space.connect(), { keyPrefix: space.prefix });
      const ids = createRedisIdempotencyStore(space.connect(), { keyPrefix: space.prefix });
      await expect(lock.acquire('s1', 'run-a', 0)).rejects.toThrow(RangeError);
      await expect(lock.renew('s1', 'run-a', Number.NaN)).rejects.toThrow(RangeError);
      await expect(lock.acquire('', 'run-a', 1_000)).rejects.toThrow(/sessionId/);
      await expect(ids.claim('k', '', 1_000)).rejects.toThrow(/value/);
    });
  });
} else {
  describe.skip(`Redis shared state: ${server.reason}`, () => {
    it('needs Redis', () => {});
  });
}
