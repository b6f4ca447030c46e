/**
 * Builds test harnesses over a real Redis: one key prefix per harness, one connection per
 * "node", and cleanup that deletes only that prefix's keys.
 */
import type { Redis, RedisOptions } from 'ioredis';
import { connectTestRedis, deleteKeys, uniquePrefix } from './redis-test-support.js';

export interface RedisTestSpace {
  /** Every key written by this space starts with it. */
  prefix: string;
  /** A new connection (a separate node), closed by `close`. */
  connect(options?: RedisOptions): Redis;
  /** Deletes this space's keys and closes its connections. */
  close(): Promise<void>;
}

export function redisTestSpace(tag: string): RedisTestSpace {
  const prefix = uniquePrefix(tag);
  const connections: Redis[] = [];
  return {
    prefix,
    connect(options) {
      const redis = connectTestRedis(options);
      connections.push(redis);
      return redis;
    },
    async close() {
      const admin = connectTestRedis();
      try {
        await deleteKeys(admin, prefix);
      } finally {
        admin.disconnect();
        for (const c of connections) c.disconnect();
      }
    },
  };
}
