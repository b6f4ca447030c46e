import { createMemoryResumeRegistry } from '../memory/shared-state.js';
import { createRedisResumeRegistry } from './shared-state.js';
import { connectTestRedis, deleteKeys, serverRedis, sleep, uniquePrefix } from '../../../test/support/redis.js';
import type { ResumeRegistry } from '../../ports.js';

function describeRegistry(name: string, make: () => { registry: ResumeRegistry; cleanup(): Promise<void> }): void {
  describe(`connection registry: ${name}`, () => {
    let h: ReturnType<typeof make>;
    beforeEach(() => {
      h = make();
    });
    afterEach(async () => h.cleanup());

    it('keeps a record until it expires', async () => {
      await h.registry.save('c1', { userId: 'u', sessions: { s1: 4, s2: 0 } }, 150);
      expect(await h.registry.load('c1')).toEqual({ userId: 'u', sessions: { s1: 4, s2: 0 } });
      expect(await h.registry.load('other')).toBeNull();
      await sleep(250);
      expect(await h.registry.load('c1')).toBeNull();
    });
  });
}

describeRegistry('memory', () => ({ registry: createMemoryResumeRegistry(), cleanup: async () => {} }));

const redis = await serverRedis();
if (redis.available) {
  describeRegistry('redis', () => {
    const client = connectTestRedis();
    const keyPrefix = uniquePrefix('conn');
    return {
      registry: createRedisResumeRegistry(client, { keyPrefix }),
      async cleanup() {
        await deleteKeys(client, keyPrefix);
        client.disconnect();
      },
    };
  });
} else describe.skip(`connection registry on Redis: ${redis.reason}`, () => it('skipped', () => {}));
