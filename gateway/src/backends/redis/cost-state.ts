import type { CacheStore, DaySpend, SpendCounters } from '../../ports.js';
import type { SpendSeed } from '../memory/cost-state.js';
import type { RedisClient } from './client.js';
import { DEFAULT_KEY_PREFIX, checkTtl, redisScript } from './script.js';

const COUNTER_TTL_MS = 2 * 24 * 3600 * 1000;

// KEYS: counter. ARGV: nanos. The new total, or nil when the counter is missing (seed it first).
const ADD = redisScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
return redis.call('INCRBY', KEYS[1], ARGV[1])
`);

/**
 * Today's spend counters on Redis, shared by every node: one integer key per (user, day) and one
 * per day for the deployment (INCRBY, so concurrent runs on different nodes add up exactly once).
 * A key Redis no longer holds (restarted without persistence) is seeded from the database first;
 * an add to a key it holds is one command per key (a script: INCRBY only if the key exists).
 * On a cluster the two keys live in different slots: each command names one key.
 */
export function createRedisSpendCounters(redis: RedisClient, seed: SpendSeed, options: { keyPrefix?: string } = {}): SpendCounters {
  const prefix = `${options.keyPrefix ?? DEFAULT_KEY_PREFIX}spend:`;
  const userKey = (userId: string, day: string) => `${prefix}u:{${userId}}:${day}`;
  const dayKey = (day: string) => `${prefix}g:${day}`;
  const read = async (key: string, load: () => Promise<number>): Promise<number> => {
    const value = await redis.get(key);
    if (value !== null) return Number(value);
    // Seed once: a node that loses the race keeps the value the winner wrote.
    await redis.set(key, String(await load()), 'PX', COUNTER_TTL_MS, 'NX');
    return Number((await redis.get(key)) ?? 0);
  };
  const get = async (userId: string, day: string): Promise<DaySpend> => {
    const [user, global] = await Promise.all([
      read(userKey(userId, day), () => seed.userTotal(userId, day)),
      read(dayKey(day), () => seed.globalTotal(day)),
    ]);
    return { user, global };
  };
  /** Adds to a counter that exists in one command; a missing one is seeded first, then added to. */
  const add = async (key: string, nanos: number, load: () => Promise<number>): Promise<number> => {
    const total = await ADD.run(redis, [key], [nanos]);
    if (total !== null) return Number(total);
    await read(key, load);
    return Number(await redis.incrby(key, nanos));
  };
  return {
    get,
    async add(userId, day, nanos) {
      if (!Number.isSafeInteger(nanos) || nanos < 0) throw new RangeError(`nanos must be an integer >= 0, got ${nanos}`);
      const [user, global] = await Promise.all([
        add(userKey(userId, day), nanos, () => seed.userTotal(userId, day)),
        add(dayKey(day), nanos, () => seed.globalTotal(day)),
      ]);
      return { user, global };
    },
  };
}

/** Cache entries as Redis strings with a PX TTL (every node shares them). */
export function createRedisCacheStore(redis: RedisClient, options: { keyPrefix?: string } = {}): CacheStore {
  const prefix = `${options.keyPrefix ?? DEFAULT_KEY_PREFIX}cache:`;
  return {
    get: (key) => redis.get(prefix + key),
    async set(key, value, ttlMs) {
      await redis.set(prefix + key, value, 'PX', checkTtl(Math.round(ttlMs)));
    },
  };
}
