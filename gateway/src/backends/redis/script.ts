import { createHash } from 'node:crypto';
import type { RedisClient } from './client.js';

/** A Lua script run by EVALSHA, loaded with EVAL when the server does not know it (yet or any more). */
export interface RedisScript {
  run(redis: RedisClient, keys: string[], args: Array<string | number>): Promise<unknown>;
}

/** Wraps a Lua script; the SHA is computed once, the server caches the body after the first EVAL. */
export function redisScript(lua: string): RedisScript {
  const sha = createHash('sha1').update(lua).digest('hex');
  return {
    async run(redis, keys, args) {
      try {
        return await redis.evalsha(sha, keys.length, ...keys, ...args);
      } catch (error) {
        if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
        return redis.eval(lua, keys.length, ...keys, ...args);
      }
    },
  };
}

/** A key prefix for one gateway deployment. @default 'sb:' */
export const DEFAULT_KEY_PREFIX = 'sb:';

/** `<prefix><kind>:{<id>}` — the braces make every key of one session hash to one cluster slot. */
export function sessionKey(prefix: string, kind: string, sessionId: string): string {
  return `${prefix}${kind}:{${sessionId}}`;
}

/** Rejects a TTL Redis would refuse (PX wants a positive integer). */
export function checkTtl(ttlMs: number): number {
  if (!Number.isFinite(ttlMs) || ttlMs < 1) throw new RangeError(`ttlMs must be a positive number of milliseconds, got ${ttlMs}`);
  return Math.ceil(ttlMs);
}
