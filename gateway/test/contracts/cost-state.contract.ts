/** The spend counters and cache store contract: every implementation runs the same tests. */
import type { CacheStore, SpendCounters } from '../../src/ports.js';
import type { SpendSeed } from '../../src/backends/memory/cost-state.js';

export function costStateContract(name: string, make: (seed: SpendSeed) => { counters: SpendCounters; cache: CacheStore }): void {
  describe(`${name}#spend-counters`, () => {
    it('seeds a missing counter from the database once, then adds to it', async () => {
      const seeded: string[] = [];
      const seed: SpendSeed = {
        userTotal: async (userId, day) => (seeded.push(`user:${userId}:${day}`), userId === 'alice' ? 500 : 0),
        globalTotal: async (day) => (seeded.push(`day:${day}`), 2000),
      };
      const { counters } = make(seed);
      expect(await counters.get('alice', '2025-01-02')).toEqual({ user: 500, global: 2000 });
      expect(await counters.add('alice', '2025-01-02', 100)).toEqual({ user: 600, global: 2100 });
      expect(await counters.add('bob', '2025-01-02', 7)).toEqual({ user: 7, global: 2107 });
      expect(await counters.get('alice', '2025-01-02')).toEqual({ user: 600, global: 2107 });
      expect(seeded.filter((s) => s.startsWith('user:alice'))).toHaveLength(1);
      expect(seeded.filter((s) => s === 'day:2025-01-02')).toHaveLength(1);
      // An add that comes first on a new day seeds both counters, once, before adding.
      expect(await counters.add('alice', '2025-01-03', 5)).toEqual({ user: 505, global: 2005 });
      expect(await counters.add('alice', '2025-01-03', 0)).toEqual({ user: 505, global: 2005 });
      expect(seeded.filter((s) => s === 'day:2025-01-03')).toHaveLength(1);
      await expect(counters.add('alice', '2025-01-02', -1)).rejects.toThrow(RangeError);
      await expect(counters.add('alice', '2025-01-02', 0.5)).rejects.toThrow(RangeError);
    });
  });

  describe(`${name}#cache-store`, () => {
    it('returns what was set until its TTL passes', async () => {
      const { cache } = make({ userTotal: async () => 0, globalTotal: async () => 0 });
      expect(await cache.get('k1')).toBeNull();
      await cache.set('k1', 'v1', 60_000);
      await cache.set('k2', 'v2', 30);
      expect(await cache.get('k1')).toBe('v1');
      await new Promise((r) => setTimeout(r, 80));
      expect(await cache.get('k2')).toBeNull();
    });
  });
}
