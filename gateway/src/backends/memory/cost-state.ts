import type { CacheStore, DaySpend, SpendCounters } from '../../ports.js';

/** Where a counter missing from the store starts: the database's spend rows of that day. */
export interface SpendSeed {
  userTotal(userId: string, day: string): Promise<number>;
  globalTotal(day: string): Promise<number>;
}

/**
 * Today's spend counters of one process (no Redis: one node is all there is). Each (user, day) and
 * day counter is seeded once from the database, then counted here; older days are dropped.
 */
export function createMemorySpendCounters(seed: SpendSeed): SpendCounters {
  const users = new Map<string, Promise<number>>();
  const days = new Map<string, Promise<number>>();
  let today = '';
  const roll = (day: string) => {
    if (day <= today) return;
    today = day;
    for (const k of users.keys()) if (!k.endsWith(day)) users.delete(k);
    for (const k of days.keys()) if (k !== day) days.delete(k);
  };
  const counter = (map: Map<string, Promise<number>>, key: string, load: () => Promise<number>) => {
    let value = map.get(key);
    if (!value) {
      value = load().catch((e) => {
        map.delete(key);
        throw e;
      });
      map.set(key, value);
    }
    return value;
  };
  const get = async (userId: string, day: string): Promise<DaySpend> => {
    roll(day);
    const [user, global] = await Promise.all([
      counter(users, `${userId}:${day}`, () => seed.userTotal(userId, day)),
      counter(days, day, () => seed.globalTotal(day)),
    ]);
    return { user, global };
  };
  return {
    get,
    async add(userId, day, nanos) {
      if (!Number.isSafeInteger(nanos) || nanos < 0) throw new RangeError(`nanos must be an integer >= 0, got ${nanos}`);
      const before = await get(userId, day);
      const after = { user: before.user + nanos, global: before.global + nanos };
      users.set(`${userId}:${day}`, Promise.resolve(after.user));
      days.set(day, Promise.resolve(after.global));
      return after;
    },
  };
}

/** An in-process cache with a TTL and a bound on entries (the oldest go first). */
export function createMemoryCacheStore(options: { maxEntries?: number; now?: () => number } = {}): CacheStore {
  const max = options.maxEntries ?? 10_000;
  const now = options.now ?? Date.now;
  const entries = new Map<string, { value: string; until: number }>();
  return {
    async get(key) {
      const e = entries.get(key);
      if (!e) return null;
      if (e.until <= now()) {
        entries.delete(key);
        return null;
      }
      return e.value;
    },
    async set(key, value, ttlMs) {
      entries.delete(key);
      entries.set(key, { value, until: now() + ttlMs });
      while (entries.size > max) entries.delete(entries.keys().next().value as string);
    },
  };
}
