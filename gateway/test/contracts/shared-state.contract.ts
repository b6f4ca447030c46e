/**
 * The run lock (one run per session across nodes, a lease the holder renews) and idempotency
 * (a repeated `send` gets the same run) contracts, run against every {@link RunLock} and
 * {@link IdempotencyStore}: in-process in `backends/memory/shared-state.test.ts`, Redis in `backends/redis/shared-state.int.test.ts`.
 */
import type { IdempotencyStore, RunLock } from '../../src/ports.js';

export interface SharedStateHarness {
  /** A run lock; on a shared backend each call is a separate node on the same data. */
  lock(): Promise<RunLock>;
  /**
   * An idempotency store; on a shared backend each call is a separate node on the same data. Its
   * `claimAndAcquire` takes the leases of the harness's `lock()`.
   */
  ids(): Promise<IdempotencyStore>;
  /** Lets `ms` pass for lease and key expiry (an injected clock, or a real wait). */
  elapse(ms: number): Promise<void>;
  close(): Promise<void>;
}

export interface SharedStateFactory {
  /** Whether stores opened by one harness share data (several nodes). */
  shared: boolean;
  /** A lease length the expiry tests use; they wait 1.6 times that (and renew at 0.6). */
  ttlMs: number;
  harness(): Promise<SharedStateHarness>;
}

export function describeSharedStateContract(name: string, factory: SharedStateFactory): void {
  const { ttlMs } = factory;
  const nodes = factory.shared ? 'two nodes' : 'one node';

  describe(`RunLock contract: ${name}`, () => {
    let h: SharedStateHarness;
    beforeEach(async () => {
      h = await factory.harness();
    });
    afterEach(async () => {
      await h.close();
    });

    it(`lets one run hold a session at a time (${nodes})`, async () => {
      const [a, b] = [await h.lock(), factory.shared ? await h.lock() : undefined];
      const other = b ?? a;
      expect(await a.acquire('s1', 'run-a', 10_000)).toBe(true);
      expect(await other.acquire('s1', 'run-b', 10_000)).toBe(false);
      expect(await a.acquire('s1', 'run-a', 10_000)).toBe(true);
      expect(await other.holder('s1')).toBe('run-a');
      expect(await other.acquire('s2', 'run-b', 10_000)).toBe(true);
      expect(await a.holder('s2')).toBe('run-b');
      expect(await a.holder('free')).toBeNull();
    });

    it('lets only the holder renew', async () => {
      const lock = await h.lock();
      expect(await lock.renew('s1', 'run-a', 10_000)).toBe(false);
      await lock.acquire('s1', 'run-a', 10_000);
      expect(await lock.renew('s1', 'run-b', 10_000)).toBe(false);
      expect(await lock.renew('s1', 'run-a', 10_000)).toBe(true);
      expect(await lock.holder('s1')).toBe('run-a');
    });

    it('ignores release by a run that does not hold the lease', async () => {
      const [a, b] = [await h.lock(), await h.lock()];
      await a.acquire('s1', 'run-a', 10_000);
      await b.release('s1', 'run-b');
      expect(await a.holder('s1')).toBe('run-a');
      await b.release('s1', 'run-a');
      expect(await a.holder('s1')).toBeNull();
      expect(await b.acquire('s1', 'run-b', 10_000)).toBe(true);
    });

    it('lets another run take over after the lease expired', async () => {
      const [a, b] = [await h.lock(), await h.lock()];
      await a.acquire('s1', 'run-a', ttlMs);
      await h.elapse(ttlMs * 1.6);
      expect(await b.holder('s1')).toBeNull();
      expect(await a.renew('s1', 'run-a', ttlMs)).toBe(false);
      expect(await b.acquire('s1', 'run-b', 10_000)).toBe(true);
      await a.release('s1', 'run-a');
      expect(await b.holder('s1')).toBe('run-b');
    });

    it('keeps a renewed lease past its first expiry', async () => {
      const lock = await h.lock();
      await lock.acquire('s1', 'run-a', ttlMs);
      await h.elapse(ttlMs * 0.6);
      expect(await lock.renew('s1', 'run-a', ttlMs)).toBe(true);
      await h.elapse(ttlMs * 0.6);
      expect(await lock.holder('s1')).toBe('run-a');
    });
  });

  describe(`IdempotencyStore contract: ${name}`, () => {
    let h: SharedStateHarness;
    beforeEach(async () => {
      h = await factory.harness();
    });
    afterEach(async () => {
      await h.close();
    });

    it(`returns the first value to every later claim (${nodes})`, async () => {
      const [a, b] = [await h.ids(), await h.ids()];
      expect(await a.claim('u1:c1', 'run-1', 10_000)).toBeNull();
      expect(await b.claim('u1:c1', 'run-2', 10_000)).toBe('run-1');
      expect(await a.claim('u1:c1', 'run-3', 10_000)).toBe('run-1');
      expect(await b.claim('u1:c2', 'run-4', 10_000)).toBeNull();
    });

    it('lets only the stored value release a key', async () => {
      const [a, b] = [await h.ids(), await h.ids()];
      await a.claim('k', 'run-1', 10_000);
      await b.release('k', 'run-2');
      expect(await b.claim('k', 'run-3', 10_000)).toBe('run-1');
      await b.release('k', 'run-1');
      expect(await a.claim('k', 'run-3', 10_000)).toBeNull();
      await a.release('missing', 'x');
    });

    it('keeps the same key apart under two sessions, and scoped apart from unscoped', async () => {
      const [a, b] = [await h.ids(), await h.ids()];
      expect(await a.claim('u1:c1', 'run-1', 10_000, 's1')).toBeNull();
      expect(await b.claim('u1:c1', 'run-2', 10_000, 's2')).toBeNull();
      expect(await b.claim('u1:c1', 'run-3', 10_000)).toBeNull();
      expect(await b.claim('u1:c1', 'run-4', 10_000, 's1')).toBe('run-1');
      await b.release('u1:c1', 'run-1', 's2');
      expect(await a.claim('u1:c1', 'run-5', 10_000, 's1')).toBe('run-1');
      await b.release('u1:c1', 'run-1', 's1');
      expect(await a.claim('u1:c1', 'run-6', 10_000, 's1')).toBeNull();
    });

    it(`claims a key and takes the session's lease in one step (${nodes})`, async () => {
      const [a, b, lock] = [await h.ids(), await h.ids(), await h.lock()];
      if (!a.claimAndAcquire || !b.claimAndAcquire) throw new Error('the store has no claimAndAcquire');
      expect(await a.claimAndAcquire('u1:c1', 'run-1', 10_000, 's1', 10_000)).toEqual({ existing: null, acquired: true });
      expect(await lock.holder('s1')).toBe('run-1');
      // A repeated send gets the first run and takes nothing.
      expect(await b.claimAndAcquire('u1:c1', 'run-2', 10_000, 's1', 10_000)).toEqual({ existing: 'run-1' });
      expect(await lock.holder('s1')).toBe('run-1');
      // Another send on the busy session: its claim stands (the caller releases it on refusal).
      expect(await b.claimAndAcquire('u1:c2', 'run-3', 10_000, 's1', 10_000)).toEqual({ existing: null, acquired: false });
      expect(await a.claim('u1:c2', 'run-4', 10_000, 's1')).toBe('run-3');
      await b.release('u1:c2', 'run-3', 's1');
      await lock.release('s1', 'run-1');
      expect(await a.claimAndAcquire('u1:c2', 'run-5', 10_000, 's1', 10_000)).toEqual({ existing: null, acquired: true });
      expect(await lock.holder('s1')).toBe('run-5');
      // The same key under another session is another key.
      expect(await a.claimAndAcquire('u1:c1', 'run-6', 10_000, 's2', 10_000)).toEqual({ existing: null, acquired: true });
    });

    it('takes a lease by claimAndAcquire that expires like any other', async () => {
      const [ids, lock] = [await h.ids(), await h.lock()];
      expect(await ids.claimAndAcquire!('k', 'run-1', 10_000, 's1', ttlMs)).toEqual({ existing: null, acquired: true });
      await h.elapse(ttlMs * 1.6);
      expect(await lock.holder('s1')).toBeNull();
      expect(await lock.acquire('s1', 'run-2', ttlMs)).toBe(true);
    });

    it('forgets a key after its ttl', async () => {
      const ids = await h.ids();
      await ids.claim('k', 'run-1', ttlMs);
      await h.elapse(ttlMs * 1.6);
      expect(await ids.claim('k', 'run-2', 10_000)).toBeNull();
    });
  });
}
