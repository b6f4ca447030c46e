import type { Redis } from 'ioredis';
import type { PubSub } from '../../ports.js';

/** Options of {@link createRedisPubSub}. */
export interface RedisPubSubOptions {
  /** A connection for PUBLISH; may be shared with other commands. */
  publisher: Redis;
  /** A connection of its own: it enters subscribe mode and serves nothing else. */
  subscriber: Redis;
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
 * connections; `close` unsubscribes and detaches without quitting them.
 * @example const bus = createRedisPubSub({ publisher: redis, subscriber: redis.duplicate() });
 */
export function createRedisPubSub(options: RedisPubSubOptions): PubSub {
  const { publisher, subscriber } = options;
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
  subscriber.on('message', onMessage);

  const checkChannel = (channel: unknown): string => {
    if (typeof channel !== 'string' || channel === '') throw new TypeError('channel must be a non-empty string');
    return channel;
  };

  return {
    async publish(channel, message) {
      if (typeof message !== 'string') throw new TypeError('message must be a string');
      await publisher.publish(checkChannel(channel), message);
    },
    async subscribe(channel, handler) {
      const known = handlers.has(checkChannel(channel));
      handlers.set(channel, handler);
      if (!known) {
        try {
          await subscriber.subscribe(channel);
        } catch (error) {
          if (handlers.get(channel) === handler) handlers.delete(channel);
          throw error;
        }
      }
    },
    async unsubscribe(channel) {
      if (!handlers.delete(checkChannel(channel))) return;
      await subscriber.unsubscribe(channel);
    },
    async close() {
      const channels = [...handlers.keys()];
      handlers.clear();
      subscriber.off('message', onMessage);
      if (channels.length > 0 && subscriber.status === 'ready') await subscriber.unsubscribe(...channels);
    },
  };
}
