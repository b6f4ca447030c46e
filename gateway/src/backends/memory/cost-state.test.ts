import { costStateContract } from '../../../test/contracts/cost-state.contract.js';
import { createMemoryCacheStore, createMemorySpendCounters } from './cost-state.js';

costStateContract('memory', (seed) => ({ counters: createMemorySpendCounters(seed), cache: createMemoryCacheStore() }));

describe('memory#cache-store bounds', () => {
  it('drops the oldest entries past maxEntries', async () => {
    const cache = createMemoryCacheStore({ maxEntries: 2 });
    for (const k of ['a', 'b', 'c']) await cache.set(k, k, 60_000);
    expect(await cache.get('a')).toBeNull();
    expect(await cache.get('c')).toBe('c');
  });
});
