/**
 * Batched script calls on a real Redis (`TEST_REDIS_URL`): the calls of one turn leave in one
 * write and keep their order, and a script the server lost is loaded again. Always runs in CI;
 * elsewhere skipped, with the reason, when Redis is down.
 */
import type { Redis } from 'ioredis';
import { batchedScript, redisScript, type ScriptCalls } from './script.js';
import { redisTestSpace, type RedisTestSpace } from '../../../test/support/redis-harness.js';
import { serverRedis } from '../../../test/support/redis.js';

const server = await serverRedis();

const PUSH = redisScript(`return redis.call('RPUSH', KEYS[1], ARGV[1])`);

function call(calls: ScriptCalls, key: string, value: string): Promise<unknown> {
  return new Promise((resolve, reject) => calls.call([key], [value], (error, reply) => (error ? reject(error) : resolve(reply))));
}

if (server.available) {
  describe('batched script calls', () => {
    let space: RedisTestSpace;
    let redis: Redis;
    let key: string;
    beforeEach(async () => {
      space = redisTestSpace('script');
      redis = await space.ready();
      key = `${space.prefix}list`;
    });
    afterEach(() => space.close());

    it('sends the calls of one turn in order, in one corked write', async () => {
      const corks = vi.spyOn(redis.stream, 'cork');
      const calls = batchedScript(redis, PUSH);
      expect(await Promise.all(['a', 'b', 'c'].map((v) => call(calls, key, v)))).toEqual([1, 2, 3]);
      expect(await redis.lrange(key, 0, -1)).toEqual(['a', 'b', 'c']);
      expect(corks).toHaveBeenCalledTimes(1);
    });

    it('loads the script again when the server has lost it', async () => {
      const calls = batchedScript(redis, PUSH);
      expect(await call(calls, key, 'a')).toBe(1);
      await redis.script('FLUSH');
      expect(await call(calls, key, 'b')).toBe(2);
    });
  });
} else {
  describe.skip(`batched script calls: ${server.reason}`, () => {
    it('needs Redis', () => {});
  });
}
