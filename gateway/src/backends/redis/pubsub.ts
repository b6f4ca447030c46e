import type { RedisClient } from './client.js';
import type { PubSub } from '../../ports.js';

/** Options of {@link createRedisPubSub}. */
export interface RedisPubSubOptions {
  /** A connection for PUBLISH; may be shared with other commands. */
  publisher: RedisClient;
  /** A connection of its own: it enters subscribe mode and serves nothing else. */
  subscriber: RedisClient;
  /**
   * Sharded pub/sub (SPUBLISH/SSUBSCRIBE, Redis 7): a message goes only to the cluster node that
   * owns the channel's slot instead of to every node. For a Redis Cluster (the subscriber must be
   * a cluster client opened with sharded subscribers). @default false
   */
  sharded?: boolean;
  /**
   * Called when a handler throws, so one bad handler cannot break delivery to the others.
   * @default rethrows outside the Redis client (an uncaught exception, as with the in-process bus)
   */
  onHandlerError?: (error: unknown, channel: string) => void;
}

/**
 * Redis pub/sub behind {@link PubSub}: it only moves strings. ioredis re-subscribes every channel
 * after a reconnect (`autoResubscribe`, on by default); messages published while the connection was
 * down are lost, as with any pub/sub — the session log fills such holes. The caller owns both
 * connections; `close` unsubscribes and detaches without quitting them. With `sharded`, each
 * channel lives on its slot's master; on a failover ioredis re-subscribes on the promoted replica.
 * @example const bus = createRedisPubSub({ publisher: redis, subscriber: redis.duplicate() });
 */
export function createRedisPubSub(options: RedisPubSubOptions): PubSub {
  const { publisher, subscriber } = options;
  const sharded = options.sharded === true;
  const messageEvent = sharded ? 'smessage' : 'message';
  const onHandlerError =
    options.onHandlerError ??
    ((error: unknown) =>
      queueMicrotask(() => {
        throw error;
      }));
  const handlers = new Map<string, (message: string) => void>();

  const onMessage = (channel: string, message: string) => {
    const handler = handlers.get(channel);
    if (!handler) return;
    try {
      handler(message);
    } catch (error) {
      onHandlerError(error, channel);
    }
  };
  subscriber.on(messageEvent, onMessage);

  const checkChannel = (channel: unknown): string => {
    if (typeof channel !== 'string' || channel === '') throw new TypeError('channel must be a non-empty string');
    return channel;
  };

  return {
    async publish(channel, message) {
      if (typeof message !== 'string') throw new TypeError('message must be a string');
      if (sharded) await publisher.spublish(checkChannel(channel), message);
      else await publisher.publish(checkChannel(channel), message);
    },
    async subscribe(channel, handler) {
      const known = handlers.has(checkChannel(channel));
      handlers.set(channel, handler);
      if (!known) {
        try {
          await (sharded ? subscriber.ssubscribe(channel) : subscriber.subscribe(channel));
        } catch (error) {
          if (handlers.get(channel) === handler) handlers.delete(channel);
          throw error;
        }
      }
    },
    async unsubscribe(channel) {
      if (!handlers.delete(checkChannel(channel))) return;
      await (sharded ? subscriber.sunsubscribe(channel) : subscriber.unsubscribe(channel));
    },
    async close() {
      const channels = [...handlers.keys()];
      handlers.clear();
      subscriber.off(messageEvent, onMessage);
      if (channels.length === 0 || subscriber.status !== 'ready') return;
      // Sharded channels of different slots cannot share one SUNSUBSCRIBE.
      if (sharded) await Promise.all(channels.map((c) => subscriber.sunsubscribe(c)));
      else await subscriber.unsubscribe(...channels);
    },
  };
}
