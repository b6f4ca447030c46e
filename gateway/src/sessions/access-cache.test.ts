import { SessionAccessCache } from './access-cache.js';

describe('SessionAccessCache', () => {
  it('caches positive answers until they expire and never caches a refusal', async () => {
    let t = 0;
    const calls: string[] = [];
    const owned = new Set(['u1:s1']);
    const cache = new SessionAccessCache(async (u, s) => (calls.push(`${u}:${s}`), owned.has(`${u}:${s}`)), 100, 10, () => t);
    expect(await cache.canAccess('u1', 's1')).toBe(true);
    expect(await cache.canAccess('u1', 's1')).toBe(true);
    expect(calls).toEqual(['u1:s1']);
    expect(await cache.canAccess('u2', 's1')).toBe(false);
    expect(await cache.canAccess('u2', 's1')).toBe(false);
    expect(calls.filter((c) => c === 'u2:s1')).toHaveLength(2);
    owned.delete('u1:s1');
    t = 101;
    expect(await cache.canAccess('u1', 's1')).toBe(false);
  });
  it('forgets a session on demand', async () => {
    const owned = new Set(['u:s']);
    const cache = new SessionAccessCache(async (u, s) => owned.has(`${u}:${s}`));
    expect(await cache.canAccess('u', 's')).toBe(true);
    owned.clear();
    cache.forget('u', 's');
    expect(await cache.canAccess('u', 's')).toBe(false);
  });
});
