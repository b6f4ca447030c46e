/**
 * The session bus contract (publish reaches every subscriber of the channel, on any node; no
 * replay), run against every {@link PubSub}: the in-process bus in `backends/memory/pubsub.test.ts`,
 * Redis in `backends/redis/pubsub.int.test.ts`. Delivery is asynchronous; tests wait for it.
 */
import { waitUntil } from '../support/redis.js';
import type { PubSub } from '../../src/ports.js';

export interface PubSubHarness {
  /** Opens a bus. On a shared backend each bus is a separate node (its own subscriber connection). */
  open(): Promise<PubSub>;
  /** Closes every bus and connection it opened. */
  close(): Promise<void>;
}

export interface PubSubFactory {
  /** Whether buses opened by one harness reach each other (several nodes). */
  shared: boolean;
  harness(): Promise<PubSubHarness>;
}

function collector() {
  const got: string[] = [];
  return { got, handler: (m: string) => void got.push(m) };
}

export function describePubSubContract(name: string, factory: PubSubFactory): void {
  describe(`PubSub contract: ${name}`, () => {
    let h: PubSubHarness;
    beforeEach(async () => {
      h = await factory.harness();
    });
    afterEach(async () => {
      await h.close();
    });

    it('delivers a published string to the subscribed handler', async () => {
      const bus = await h.open();
      const c = collector();
      await bus.subscribe('ch', c.handler);
      await bus.publish('ch', '12 {"type":"token","text":"héllo 👋"}');
      await waitUntil(() => c.got.length === 1, 'delivery');
      expect(c.got).toEqual(['12 {"type":"token","text":"héllo 👋"}']);
    });

    it('keeps channels apart', async () => {
      const bus = await h.open();
      const a = collector();
      const b = collector();
      await bus.subscribe('a', a.handler);
      await bus.subscribe('b', b.handler);
      await bus.publish('a', 'for a');
      await bus.publish('b', 'for b');
      await bus.publish('nobody', 'lost');
      await waitUntil(() => a.got.length + b.got.length === 2, 'delivery');
      expect(a.got).toEqual(['for a']);
      expect(b.got).toEqual(['for b']);
    });

    it('keeps one handler per channel: subscribing again replaces it', async () => {
      const bus = await h.open();
      const first = collector();
      const second = collector();
      await bus.subscribe('ch', first.handler);
      await bus.subscribe('ch', second.handler);
      await bus.publish('ch', 'm');
      await waitUntil(() => second.got.length === 1, 'delivery');
      expect(first.got).toEqual([]);
    });

    it('stops delivering after unsubscribe', async () => {
      const bus = await h.open();
      const gone = collector();
      const kept = collector();
      await bus.subscribe('gone', gone.handler);
      await bus.subscribe('kept', kept.handler);
      await bus.unsubscribe('gone');
      await bus.unsubscribe('never-subscribed');
      await bus.publish('gone', 'x');
      await bus.publish('kept', 'y');
      // one publisher's messages arrive in order: once 'y' is here, 'x' would have been too
      await waitUntil(() => kept.got.length === 1, 'delivery');
      expect(gone.got).toEqual([]);
      await bus.subscribe('gone', gone.handler);
      await bus.publish('gone', 'z');
      await waitUntil(() => gone.got.length === 1, 'delivery after resubscribe');
      expect(gone.got).toEqual(['z']);
    });

    it('preserves the order of 1000 messages from one publisher', async () => {
      const bus = await h.open();
      const c = collector();
      await bus.subscribe('ch', c.handler);
      const sent = Array.from({ length: 1000 }, (_, i) => `${i + 1} frame`);
      await Promise.all(sent.map((m) => bus.publish('ch', m)));
      await waitUntil(() => c.got.length === sent.length, '1000 messages');
      expect(c.got).toEqual(sent);
    });

    it('stops delivering after close', async () => {
      const bus = await h.open();
      const other = factory.shared ? await h.open() : bus;
      const c = collector();
      await bus.subscribe('ch', c.handler);
      await bus.close();
      const probe = collector();
      if (other !== bus) {
        await other.subscribe('probe', probe.handler);
        await other.publish('ch', 'after close');
        await other.publish('probe', 'p');
        await waitUntil(() => probe.got.length === 1, 'probe');
      }
      expect(c.got).toEqual([]);
    });

    it.skipIf(!factory.shared)('delivers to every node subscribed to a channel (shared backends only)', async () => {
      const [a, b, publisher] = [await h.open(), await h.open(), await h.open()];
      const ca = collector();
      const cb = collector();
      await a.subscribe('ch', ca.handler);
      await b.subscribe('ch', cb.handler);
      await publisher.publish('ch', 'one');
      await a.publish('ch', 'two');
      await waitUntil(() => ca.got.length === 2 && cb.got.length === 2, 'both nodes');
      expect(ca.got).toEqual(['one', 'two']);
      expect(cb.got).toEqual(['one', 'two']);
    });
  });
}
