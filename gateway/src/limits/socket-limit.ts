import type { RedisClient } from '../backends/redis/client.js';
import { redisScript } from '../backends/redis/script.js';
import type { LimitDenied, SocketLimit, SocketSlot } from './types.js';

/** A denied socket slot: it frees when another socket of the user closes, so the hint is short. */
const denied = (): LimitDenied => ({ ok: false, code: 'rate_limited', retryAfterMs: 1_000, limit: 'sockets' });

interface Counter {
  acquire(userId: string): Promise<boolean>;
  release(userId: string): Promise<void>;
  count(userId: string): Promise<number>;
}

function memoryCounter(max: number): Counter {
  const counts = new Map<string, number>();
  return {
    async acquire(userId) {
      const n = counts.get(userId) ?? 0;
      if (n >= max) return false;
      counts.set(userId, n + 1);
      return true;
    },
    async release(userId) {
      const n = (counts.get(userId) ?? 0) - 1;
      if (n > 0) counts.set(userId, n);
      else counts.delete(userId);
    },
    async count(userId) {
      return counts.get(userId) ?? 0;
    },
  };
}

// KEYS: counter. ARGV: max, ttlMs. Returns 1 when a slot was taken.
const ACQUIRE = redisScript(`
local n = redis.call('INCR', KEYS[1])
if n > tonumber(ARGV[1]) then redis.call('DECR', KEYS[1]) return 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
`);
// KEYS: counter. ARGV: ttlMs. Never below zero (the key may have expired while sockets were open).
const RELEASE = redisScript(`
local n = tonumber(redis.call('GET', KEYS[1]) or '0')
if n <= 1 then redis.call('DEL', KEYS[1]) return 0 end
redis.call('DECR', KEYS[1])
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return n - 1
`);

function redisCounter(redis: RedisClient, max: number, prefix: string, ttlMs: number): Counter {
  const key = (userId: string) => `${prefix}${userId}`;
  return {
    async acquire(userId) {
      return (await ACQUIRE.run(redis, [key(userId)], [max, ttlMs])) === 1;
    },
    async release(userId) {
      await RELEASE.run(redis, [key(userId)], [ttlMs]);
    },
    async count(userId) {
      return Number((await redis.get(key(userId))) ?? 0);
    },
  };
}

export interface SocketLimitOptions {
  max: number;
  redis?: RedisClient;
  /** Prefix of the Redis counters. */
  keyPrefix: string;
  /**
   * Lifetime of a user's Redis counter after its last change. It bounds how long slots leaked by a
   * node that died stay counted; a user whose sockets all outlive it is under-counted (never
   * locked out). @default 1800000 (30 min)
   */
  ttlMs?: number;
}

/** A held slot: one small object per open socket (no closure and context). */
class HeldSlot {
  readonly ok = true;
  private counter: Counter | null;
  constructor(
    counter: Counter,
    private readonly userId: string,
  ) {
    this.counter = counter;
  }
  async release(): Promise<void> {
    const counter = this.counter;
    if (!counter) return;
    this.counter = null;
    await counter.release(this.userId).catch(() => {
      // Redis is down: the counter's ttl frees the slot later
    });
  }
}

/**
 * Concurrent sockets per user: INCR/DECR on Redis (one count across nodes), or in memory. While
 * Redis is not ready the slot is counted in memory on this node instead, and released where it
 * was taken.
 */
export function createSocketLimit(options: SocketLimitOptions): SocketLimit {
  const { max, redis } = options;
  const local = memoryCounter(max);
  const shared = redis ? redisCounter(redis, max, options.keyPrefix, options.ttlMs ?? 30 * 60 * 1000) : undefined;

  async function take(userId: string): Promise<Counter | null> {
    if (shared && redis?.status === 'ready') {
      try {
        return (await shared.acquire(userId)) ? shared : null;
      } catch {
        // Redis failed mid-call: count on this node (insurance) rather than refuse or throw
      }
    }
    return (await local.acquire(userId)) ? local : null;
  }

  return {
    async acquire(userId): Promise<SocketSlot> {
      if (typeof userId !== 'string' || userId === '') throw new TypeError('userId must be a non-empty string');
      const counter = await take(userId);
      if (!counter) return denied();
      return new HeldSlot(counter, userId);
    },
    async count(userId) {
      if (shared && redis?.status === 'ready') {
        try {
          return (await shared.count(userId)) + (await local.count(userId));
        } catch {
          // fall through to what this node knows
        }
      }
      return local.count(userId);
    },
  };
}
