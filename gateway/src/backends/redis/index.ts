import { Redis } from 'ioredis';
import type { Logger } from '../../logger.js';
import type { ReadinessProbe } from '../../ports.js';
import { createRedisResumeRegistry, createRedisIdempotencyStore, createRedisRunLock } from './shared-state.js';
import { createRedisSessionLog } from './session-log.js';
import { createRedisPubSub } from './pubsub.js';
import type { ResumeRegistry, IdempotencyStore, LogRetention, PubSub, RunLock, SessionLog } from '../../ports.js';

export interface RedisBackends {
  redis: Redis;
  log: SessionLog;
  bus: PubSub;
  lock: RunLock;
  idempotency: IdempotencyStore;
  resume: ResumeRegistry;
  probe: ReadinessProbe;
  close(): Promise<void>;
}

/**
 * The shared backends on `REDIS_URL`: frame log (Streams), bus (pub/sub), run locks, idempotency
 * keys, resume records. Commands fail fast while Redis is down (the gateway reports not-ready and keeps its local
 * sockets) and everything resumes when it returns.
 */
export function createRedisBackends(url: string, options: { retention: LogRetention; keyPrefix?: string; logger: Logger }): RedisBackends {
  const common = {
    maxRetriesPerRequest: 2,
    connectTimeout: 3000,
    retryStrategy: (times: number) => Math.min(2000, 50 * 2 ** Math.min(times, 6)),
    lazyConnect: false,
  };
  // Auto-pipelining batches the per-token log appends and publishes of concurrent runs into fewer writes.
  const redis = new Redis(url, { ...common, connectionName: 'switchboard', enableAutoPipelining: true });
  const subscriber = new Redis(url, { ...common, connectionName: 'switchboard-sub', maxRetriesPerRequest: null });
  let down = false;
  for (const c of [redis, subscriber]) {
    c.on('error', (e: Error) => {
      if (!down) options.logger.warn('redis unavailable', { error: e.message });
      down = true;
    });
    c.on('ready', () => {
      if (down) options.logger.info('redis is back');
      down = false;
    });
  }
  const keyPrefix = options.keyPrefix;
  return {
    redis,
    // The bus publishes on this same connection: a batch append publishes in its own script.
    log: createRedisSessionLog(redis, { retention: options.retention, keyPrefix, publishes: true }),
    bus: createRedisPubSub({
      publisher: redis,
      subscriber,
      onHandlerError: (e, channel) => options.logger.error('bus handler failed', { channel, error: String(e) }),
    }),
    lock: createRedisRunLock(redis, { keyPrefix }),
    idempotency: createRedisIdempotencyStore(redis, { keyPrefix }),
    resume: createRedisResumeRegistry(redis, { keyPrefix }),
    probe: {
      name: 'redis',
      async check() {
        if (redis.status !== 'ready' || subscriber.status !== 'ready') throw new Error(`connection ${redis.status}`);
        await redis.ping();
      },
    },
    async close() {
      redis.disconnect();
      subscriber.disconnect();
    },
  };
}
