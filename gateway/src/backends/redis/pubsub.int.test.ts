/**
 * The session bus contract on real Redis pub/sub (`TEST_REDIS_URL`), plus re-subscription after the
 * subscriber connection is killed. Always runs in CI; elsewhere skipped, with the reason, when
 * Redis is down.
 */
import { describePubSubContract } from '../../../test/contracts/pubsub.contract.js';
import { redisTestSpace, type RedisTestSpace } from '../../../test/support/redis-harness.js';
import { createRedisPubSub } from './pubsub.js';
import { serverRedis, waitUntil } from '../../../test/support/redis.js';
import type { PubSub } from '../../ports.js';

const server = await serverRedis();

if (server.available) {
  describePubSubContract('Redis pub/sub', {
    shared: true,
    async harness() {
      const space = redisTestSpace('bus');
      const buses: PubSub[] = [];
      return {
        async open() {
          // channels are global in Redis: the tests' channel names get this harness's prefix
          const bus = prefixed(space.prefix, createRedisPubSub({ publisher: space.connect(), subscriber: space.connect() }));
          buses.push(bus);
          return bus;
        },
        async close() {
          await Promise.all(buses.map((b) => b.close()));
          await space.close();
        },
      };
    },
  });

  describe('Redis pub/sub', () => {
    let space: RedisTestSpace;
    beforeEach(() => {
      space = redisTestSpace('bus');
    });
    afterEach(() => space.close());

    it('re-subscribes after the subscriber connection was killed', async () => {
      const name = `${space.prefix.replaceAll(':', '-')}sub`;
      const subscriber = space.connect({ connectionName: name, retryStrategy: () => 10 });
      const admin = space.connect();
      const bus = createRedisPubSub({ publisher: admin, subscriber });
      const got: string[] = [];
      const channel = `${space.prefix}ch`;
      await bus.subscribe(channel, (m) => got.push(m));
      await admin.publish(channel, 'before');
      await waitUntil(() => got.length === 1, 'first delivery');

      const clients = (await admin.client('LIST')) as string;
      const id = /id=(\d+) .*name=(\S+)/
        .exec(clients.split('\n').find((line) => line.includes(`name=${name} `)) ?? '')?.[1];
      expect(id).toBeDefined();
      let reconnected = false;
      subscriber.once('ready', () => (reconnected = true));
      expect(await admin.client('KILL', 'ID', id!)).toBe(1);
      await waitUntil(() => reconnected, 'reconnect');
      // pub/sub is at-most-once while disconnected: publish until the re-subscription is live
      let n = 0;
      await waitUntil(() => {
        if (got.at(-1)?.startsWith('after ')) return true;
        void admin.publish(channel, `after ${++n}`);
        return false;
      }, 'delivery after reconnect');
      expect(got[0]).toBe('before');
      await bus.close();
    });

    it('isolates a throwing handler and reports it', async () => {
      const errors: unknown[] = [];
      const bus = createRedisPubSub({
        publisher: space.connect(),
        subscriber: space.connect(),
        onHandlerError: (error) => errors.push(error),
      });
      const got: string[] = [];
      await bus.subscribe(`${space.prefix}bad`, () => {
        throw new Error('handler bug');
      });
      await bus.subscribe(`${space.prefix}good`, (m) => got.push(m));
      await bus.publish(`${space.prefix}bad`, 'x');
      await bus.publish(`${space.prefix}good`, 'y');
      await waitUntil(() => got.length === 1, 'delivery');
      expect(errors).toHaveLength(1);
      await expect(bus.publish('', 'x')).rejects.toThrow(TypeError);
      await bus.close();
    });
  });
} else {
  describe.skip(`Redis pub/sub: ${server.reason}`, () => {
    it('needs Redis', () => {});
  });
}

/** Puts every channel name under `prefix`, so parallel test files never hear each other. */
function prefixed(prefix: string, bus: PubSub): PubSub {
  return {
    publish: (channel, message) => bus.publish(prefix + channel, message),
    subscribe: (channel, handler) => bus.subscribe(prefix + channel, handler),
    unsubscribe: (channel) => bus.unsubscribe(prefix + channel),
    close: () => bus.close(),
  };
}
