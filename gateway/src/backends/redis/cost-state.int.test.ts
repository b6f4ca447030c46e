import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { costStateContract } from '../../../test/contracts/cost-state.contract.js';
import { serverRedis, TEST_REDIS_URL } from '../../../test/support/redis.js';
import { createRedisCacheStore, createRedisSpendCounters } from './cost-state.js';

const redis = await serverRedis();
if (redis.available) {
  const client = new Redis(TEST_REDIS_URL);
  const prefixes: string[] = [];
  afterAll(async () => {
    for (const prefix of prefixes) {
      const keys = await client.keys(`${prefix}*`);
      if (keys.length) await client.del(...keys);
    }
    client.disconnect();
  });
  costStateContract('redis', (seed) => {
    const keyPrefix = `test:cost:${randomBytes(4).toString('hex')}:`;
    prefixes.push(keyPrefix);
    return { counters: createRedisSpendCounters(client, seed, { keyPrefix }), cache: createRedisCacheStore(client, { keyPrefix }) };
  });
} else describe.skip(`redis cost state: ${redis.reason}`, () => it('skipped', () => {}));
