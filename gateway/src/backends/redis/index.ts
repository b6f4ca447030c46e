import type { Logger } from '../../logger.js';
import { openRedisClient, type RedisClient } from './client.js';
import { parseRedisUrl } from './url.js';
import type { ReadinessProbe } from '../../ports.js';
import { createRedisResumeRegistry, createRedisIdempotencyStore, createRedisRunLock } from './shared-state.js';
import { createRedisSessionLog } from './session-log.js';
import { createRedisPubSub } from './pubsub.js';
import type { ResumeRegistry, IdempotencyStore, LogRetention, PubSub, RunLock, SeqReservations, SessionLog } from '../../ports.js';

export interface RedisBackends {
  redis: RedisClient;
  /** True on a Redis Cluster. */
  cluster: boolean;
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
export function createRedisBackends(
  url: string,
  options: { retention: LogRetention; keyPrefix?: string; logger: Logger; cluster?: boolean; reservations?: SeqReservations },
): RedisBackends {
  const target = parseRedisUrl(url, { cluster: options.cluster });
  const common = {
    maxRetriesPerRequest: 2,
    connectTimeout: 3000,
    retryStrategy: (times: number) => Math.min(2000, 50 * 2 ** Math.min(times, 6)),
    lazyConnect: false,
  };
  // Auto-pipelining batches the per-token log appends and publishes of concurrent runs into fewer writes.
  const redis = openRedisClient(target, { ...common, connectionName: 'switchboard', enableAutoPipelining: true });
  const subscriber = openRedisClient(target, { ...common, connectionName: 'switchboard-sub', maxRetriesPerRequest: null, subscriber: true });
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
    cluster: target.cluster,
    // The bus publishes on this same connection: a batch append publishes in its own script
    // (plain PUBLISH; on a cluster the bus is sharded, so the hub publishes instead).
    log: createRedisSessionLog(redis, { retention: options.retention, keyPrefix, publishes: !target.cluster, reservations: options.reservations }),
    bus: createRedisPubSub({
      publisher: redis,
      subscriber,
      sharded: target.cluster,
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
