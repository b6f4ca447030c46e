import type { RedisClient } from './client.js';
import { DEFAULT_KEY_PREFIX, checkTtl, redisScript, sessionKey } from './script.js';
import type { ResumeRecord, ResumeRegistry, IdempotencyStore, RunLock } from '../../ports.js';

/** Options shared by the Redis shared-state stores. */
export interface RedisKeyOptions {
  /** Prefix of every key. @default 'sb:' */
  keyPrefix?: string;
}

// KEYS: lock. ARGV: runId, ttlMs. Takes a free lease or extends our own.
const ACQUIRE = redisScript(`
local holder = redis.call('GET', KEYS[1])
if holder == false then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 1 end
if holder == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 1 end
return 0
`);
// KEYS: lock. ARGV: runId, ttlMs. Only the holder extends.
const RENEW = redisScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 1 end
return 0
`);
// KEYS: key. ARGV: value. Compare-and-delete: only the holder releases.
const RELEASE = redisScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`);

// KEYS: idempotency key, lock. ARGV: value, key ttlMs, lease ttlMs. {0, prior}: claimed before;
// {1}: claimed and the lease taken (free, or already ours); {2}: claimed, the lease held by another.
const CLAIM_AND_ACQUIRE = redisScript(`
local prior = redis.call('SET', KEYS[1], ARGV[1], 'NX', 'GET', 'PX', ARGV[2])
if prior then return {0, prior} end
local holder = redis.call('GET', KEYS[2])
if holder == false then redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[3]) return {1} end
if holder == ARGV[1] then redis.call('PEXPIRE', KEYS[2], ARGV[3]) return {1} end
return {2}
`);

function checkId(name: string, value: unknown): string {
  if (typeof value !== 'string' || value === '') throw new TypeError(`${name} must be a non-empty string`);
  return value;
}

/**
 * The run lock on Redis: a lease per session (SET PX) that only its holder renews or releases
 * (compare-and-set in Lua). A node that dies stops renewing and the lease expires.
 * @example const locks = createRedisRunLock(redis); if (await locks.acquire(sessionId, runId, 15_000)) { … }
 */
export function createRedisRunLock(redis: RedisClient, options: RedisKeyOptions = {}): RunLock {
  const prefix = options.keyPrefix ?? DEFAULT_KEY_PREFIX;
  const key = (sessionId: string) => sessionKey(prefix, 'lock', checkId('sessionId', sessionId));
  return {
    async acquire(sessionId, runId, ttlMs) {
      return (await ACQUIRE.run(redis, [key(sessionId)], [checkId('runId', runId), checkTtl(ttlMs)])) === 1;
    },
    async renew(sessionId, runId, ttlMs) {
      return (await RENEW.run(redis, [key(sessionId)], [checkId('runId', runId), checkTtl(ttlMs)])) === 1;
    },
    async release(sessionId, runId) {
      await RELEASE.run(redis, [key(sessionId)], [checkId('runId', runId)]);
    },
    async holder(sessionId) {
      return redis.get(key(sessionId));
    },
  };
}

/**
 * Idempotency keys on Redis: `SET NX GET PX` claims a key and returns what was there in one round
 * trip (Redis 7+); release is compare-and-delete. `claimAndAcquire` also takes the run lock of
 * {@link createRedisRunLock} with the same key prefix, in one script.
 * @example const prior = await ids.claim(`${userId}:${clientId}`, runId, 600_000, sessionId); // null: ours
 */
export function createRedisIdempotencyStore(redis: RedisClient, options: RedisKeyOptions = {}): IdempotencyStore {
  const prefix = options.keyPrefix ?? DEFAULT_KEY_PREFIX;
  // `<prefix>idem:{<sessionId>}:<key>` shares the session's slot; unscoped keys are `<prefix>idem:<key>`.
  const key = (k: string, sessionId: string | undefined) =>
    sessionId === undefined ? `${prefix}idem:${checkId('key', k)}` : `${sessionKey(prefix, 'idem', checkId('sessionId', sessionId))}:${checkId('key', k)}`;
  return {
    async claim(k, value, ttlMs, sessionId) {
      const prior = await redis.call('SET', key(k, sessionId), checkId('value', value), 'NX', 'GET', 'PX', checkTtl(ttlMs));
      return typeof prior === 'string' ? prior : null;
    },
    async release(k, value, sessionId) {
      await RELEASE.run(redis, [key(k, sessionId)], [checkId('value', value)]);
    },
    // Both keys are in the session's slot (`{<sessionId>}`), so one script serves a cluster too.
    async claimAndAcquire(k, value, ttlMs, sessionId, leaseTtlMs) {
      const keys = [key(k, checkId('sessionId', sessionId)), sessionKey(prefix, 'lock', sessionId)];
      const reply = (await CLAIM_AND_ACQUIRE.run(redis, keys, [checkId('value', value), checkTtl(ttlMs), checkTtl(leaseTtlMs)])) as [number, string?];
      if (reply[0] === 0) return { existing: String(reply[1]) };
      return { existing: null, acquired: reply[0] === 1 };
    },
  };
}

/** Connection records on Redis (JSON under `<prefix>conn:<id>`, expiring with the resume token). */
export function createRedisResumeRegistry(redis: RedisClient, options: RedisKeyOptions = {}): ResumeRegistry {
  const prefix = `${options.keyPrefix ?? DEFAULT_KEY_PREFIX}conn:`;
  return {
    async save(connectionId, record, ttlMs) {
      await redis.set(prefix + connectionId, JSON.stringify(record), 'PX', checkTtl(ttlMs));
    },
    async load(connectionId) {
      const raw = await redis.get(prefix + connectionId);
      if (!raw) return null;
      try {
        return JSON.parse(raw) as ResumeRecord;
      } catch {
        return null;
      }
    },
  };
}
