import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import type { RedisTarget } from './url.js';

/** A connection to one Redis server or to a Redis Cluster: the backends run on either. */
export type RedisClient = Redis | Cluster;

/**
 * Opens a client on `target`: a `Redis` for one server, a `Cluster` for a cluster (slots found
 * from any seed, MOVED/ASK followed, a promoted replica picked up on the next slots refresh).
 * `subscriber: true` on a cluster routes SSUBSCRIBE to the master of each channel's slot.
 */
export function openRedisClient(target: RedisTarget, options: RedisOptions & { subscriber?: boolean }): RedisClient {
  const { subscriber, ...redisOptions } = options;
  const auth = {
    ...(target.username !== undefined ? { username: target.username } : {}),
    ...(target.password !== undefined ? { password: target.password } : {}),
    ...(target.tls ? { tls: {} } : {}),
  };
  if (!target.cluster) {
    const node = target.nodes[0]!;
    return new Redis({ ...redisOptions, ...auth, host: node.host, port: node.port, ...(target.db !== undefined ? { db: target.db } : {}) });
  }
  const { retryStrategy, enableAutoPipelining, maxRetriesPerRequest, lazyConnect, ...perNode } = redisOptions;
  const clusterOptions: ClusterOptions = {
    redisOptions: { ...perNode, ...auth, ...(maxRetriesPerRequest !== undefined ? { maxRetriesPerRequest } : {}) },
    clusterRetryStrategy: retryStrategy ?? undefined,
    enableAutoPipelining,
    lazyConnect,
    maxRedirections: 16,
    // Across a failover the slot's master answers CLUSTERDOWN/TRYAGAIN for a moment: wait it out.
    retryDelayOnClusterDown: 200,
    retryDelayOnTryAgain: 100,
    retryDelayOnFailover: 200,
    slotsRefreshTimeout: 2000,
    shardedSubscribers: subscriber === true,
  };
  return new Cluster(target.nodes, clusterOptions);
}
