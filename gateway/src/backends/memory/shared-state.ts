import type { ClaimAndAcquire, ResumeRecord, ResumeRegistry, IdempotencyStore, PubSub, RunLock } from '../../ports.js';

/** In-process pub/sub (embedded default). Delivery is asynchronous, like a real bus. */
export function createMemoryPubSub(): PubSub {
  const handlers = new Map<string, (message: string) => void>();
  return {
    inProcess: true,
    async publish(channel, message) {
      const h = handlers.get(channel);
      if (h) queueMicrotask(() => handlers.get(channel)?.(message));
    },
    async subscribe(channel, handler) {
      handlers.set(channel, handler);
    },
    async unsubscribe(channel) {
      handlers.delete(channel);
    },
    async close() {
      handlers.clear();
    },
  };
}

/** The in-process run lock, with a synchronous look at the holder (the in-process log fences with it). */
export interface MemoryRunLock extends RunLock {
  holderNow(sessionId: string): string | null;
}

/** In-process run lock with lease expiry. */
export function createMemoryRunLock(now: () => number = Date.now): MemoryRunLock {
  const leases = new Map<string, { runId: string; until: number }>();
  const live = (sessionId: string) => {
    const l = leases.get(sessionId);
    if (l && l.until <= now()) {
      leases.delete(sessionId);
      return undefined;
    }
    return l;
  };
  return {
    async acquire(sessionId, runId, ttlMs) {
      const l = live(sessionId);
      if (l && l.runId !== runId) return false;
      leases.set(sessionId, { runId, until: now() + ttlMs });
      return true;
    },
    async renew(sessionId, runId, ttlMs) {
      const l = live(sessionId);
      if (!l || l.runId !== runId) return false;
      l.until = now() + ttlMs;
      return true;
    },
    async release(sessionId, runId) {
      if (live(sessionId)?.runId === runId) leases.delete(sessionId);
    },
    async holder(sessionId) {
      return live(sessionId)?.runId ?? null;
    },
    holderNow(sessionId) {
      return live(sessionId)?.runId ?? null;
    },
  };
}

const scoped = (key: string, sessionId: string | undefined) => (sessionId === undefined ? key : `${sessionId}\n${key}`);

/**
 * In-process idempotency keys with expiry. With `lock`, `claimAndAcquire` takes that run lock's
 * lease (in one process the two steps are one: nothing runs between them).
 */
export function createMemoryIdempotencyStore(now: () => number = Date.now, options: { lock?: RunLock } = {}): IdempotencyStore {
  const { lock } = options;
  const keys = new Map<string, { value: string; until: number }>();
  let sweepAt = now() + 60_000;
  const claim = (k: string, value: string, ttlMs: number, sessionId: string | undefined): string | null => {
    const key = scoped(k, sessionId);
    const t = now();
    if (t > sweepAt) {
      for (const [k, v] of keys) if (v.until <= t) keys.delete(k);
      sweepAt = t + 60_000;
    }
    const existing = keys.get(key);
    if (existing && existing.until > t) return existing.value;
    keys.set(key, { value, until: t + ttlMs });
    return null;
  };
  const store: IdempotencyStore = {
    async claim(k, value, ttlMs, sessionId) {
      return claim(k, value, ttlMs, sessionId);
    },
    async release(k, value, sessionId) {
      const key = scoped(k, sessionId);
      if (keys.get(key)?.value === value) keys.delete(key);
    },
  };
  if (lock) {
    store.claimAndAcquire = async (k, value, ttlMs, sessionId, leaseTtlMs): Promise<ClaimAndAcquire> => {
      const existing = claim(k, value, ttlMs, sessionId);
      if (existing !== null) return { existing };
      return { existing: null, acquired: await lock.acquire(sessionId, value, leaseTtlMs) };
    };
  }
  return store;
}

/** In-process connection records with expiry. */
export function createMemoryResumeRegistry(now: () => number = Date.now): ResumeRegistry {
  const records = new Map<string, { record: ResumeRecord; until: number }>();
  return {
    async save(connectionId, record, ttlMs) {
      const t = now();
      for (const [k, v] of records) if (v.until <= t) records.delete(k);
      records.set(connectionId, { record, until: t + ttlMs });
    },
    async load(connectionId) {
      const r = records.get(connectionId);
      return r && r.until > now() ? r.record : null;
    },
  };
}
