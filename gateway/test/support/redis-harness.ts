/**
 * Builds test harnesses over a real Redis: one key prefix per harness, one connection per
 * "node", and cleanup that deletes only that prefix's keys.
 */
import { once } from 'node:events';
import type { Redis, RedisOptions } from 'ioredis';
import { connectTestRedis, deleteKeys, uniquePrefix } from './redis.js';

export interface RedisTestSpace {
  /** Every key written by this space starts with it. */
  prefix: string;
  /** A new connection (a separate node), closed by `close`. */
  connect(options?: RedisOptions): Redis;
  /** A new connection, once it is ready (status checks such as rejectIfRedisNotReady pass). */
  ready(options?: RedisOptions): Promise<Redis>;
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
    async ready(options) {
      const redis = this.connect(options);
      if (redis.status !== 'ready') await once(redis, 'ready');
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
