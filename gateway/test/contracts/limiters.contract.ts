/**
 * The limiters' contract, run in memory (`limiters.test.ts`) and on Redis (`limiters.int.test.ts`).
 */
import type { LimitersOptions } from '../../src/limits/limiters.js';
import type { Limiters, LimitsConfig } from '../../src/limits/types.js';

export interface LimitersHarness {
  /** Limiters on this harness's store; on a shared backend each call is a separate node. */
  create(config: Partial<LimitsConfig>, options?: LimitersOptions): Promise<Limiters>;
  close(): Promise<void>;
}

export interface LimitersFactory {
  /** Whether limiters created by one harness count together (several nodes). */
  shared: boolean;
  harness(): Promise<LimitersHarness>;
}

/** 2024-03-10 18:00:00 UTC: six hours before midnight. */
const EVENING = Date.UTC(2024, 2, 10, 18);
const SIX_HOURS = 6 * 3600 * 1000;

async function times<T>(n: number, f: () => Promise<T>): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < n; i++) out.push(await f());
  return out;
}

export function describeLimitersContract(name: string, factory: LimitersFactory): void {
  describe(`Limiters contract: ${name}`, () => {
    let h: LimitersHarness;
    beforeEach(async () => {
      h = await factory.harness();
    });
    afterEach(async () => {
      await h.close();
    });

    it('limits inbound frames per connection, allowing the burst', async () => {
      const limits = await h.create({ messagesPerSecond: 1, messageBurst: 3 });
      const decisions = await times(4, () => limits.messages.consume('conn-1'));
      expect(decisions.slice(0, 3)).toEqual([{ ok: true }, { ok: true }, { ok: true }]);
      expect(decisions[3]).toMatchObject({ ok: false, code: 'rate_limited', limit: 'messages' });
      const denied = decisions[3]!;
      if (!denied.ok) expect(denied.retryAfterMs).toBeGreaterThan(0);
      expect(await limits.messages.consume('conn-2')).toEqual({ ok: true });
    });

    it('limits sends per user and connections per IP', async () => {
      const limits = await h.create({ sendsPerMinute: 2, connectionsPerIpPerMinute: 1 });
      const sends = await times(3, () => limits.sends.consume('u1'));
      expect(sends.map((d) => d.ok)).toEqual([true, true, false]);
      expect(sends[2]).toMatchObject({ code: 'rate_limited', limit: 'sends' });
      if (!sends[2]!.ok) expect(sends[2]!.retryAfterMs).toBeGreaterThan(50_000);
      expect(await limits.sends.consume('u2')).toEqual({ ok: true });
      expect(await limits.connections.consume('10.0.0.1')).toEqual({ ok: true });
      expect(await limits.connections.consume('10.0.0.1')).toMatchObject({ ok: false, limit: 'connections' });
      expect(await limits.connections.consume('::1')).toEqual({ ok: true });
    });

    it('holds concurrent sockets per user until released', async () => {
      const limits = await h.create({ socketsPerUser: 2 });
      const [a, b, c] = await times(3, () => limits.sockets.acquire('u1'));
      expect([a!.ok, b!.ok, c!.ok]).toEqual([true, true, false]);
      expect(c).toMatchObject({ code: 'rate_limited', limit: 'sockets' });
      expect(await limits.sockets.count('u1')).toBe(2);
      expect((await limits.sockets.acquire('u2')).ok).toBe(true);
      if (a!.ok) {
        await a!.release();
        await a!.release(); // idempotent: frees one slot only
      }
      expect(await limits.sockets.count('u1')).toBe(1);
      const d = await limits.sockets.acquire('u1');
      expect(d.ok).toBe(true);
      expect((await limits.sockets.acquire('u1')).ok).toBe(false);
    });

    it('spends a daily token budget and refuses until UTC midnight', async () => {
      let clock = EVENING;
      const limits = await h.create({ dailyTokenBudget: 100 }, { now: () => clock });
      expect(await limits.tokens.consume('u1', 60)).toEqual({ ok: true });
      expect(await limits.tokens.check('u1')).toEqual({ ok: true });
      expect(await limits.tokens.remaining('u1')).toBe(40);
      expect(await limits.tokens.consume('u1', 50)).toEqual({ ok: false, code: 'quota_exceeded', retryAfterMs: SIX_HOURS, limit: 'tokens' });
      expect(await limits.tokens.check('u1')).toEqual({ ok: false, code: 'quota_exceeded', retryAfterMs: SIX_HOURS, limit: 'tokens' });
      expect(await limits.tokens.remaining('u1')).toBe(0);
      expect(await limits.tokens.check('u2')).toEqual({ ok: true });
      clock += SIX_HOURS; // the next UTC day
      expect(await limits.tokens.check('u1')).toEqual({ ok: true });
      expect(await limits.tokens.remaining('u1')).toBe(100);
    });

    it('turns the token budget off with 0', async () => {
      const limits = await h.create({ dailyTokenBudget: 0 });
      expect(await limits.tokens.consume('u1', 1_000_000)).toEqual({ ok: true });
      expect(await limits.tokens.check('u1')).toEqual({ ok: true });
    });

    it('rejects bad configuration and arguments with clear errors', async () => {
      await expect(h.create({ sendsPerMinute: 0 })).rejects.toThrow(/limits.sendsPerMinute must be an integer >= 1/);
      await expect(h.create({ dailyTokenBudget: -1 })).rejects.toThrow(/dailyTokenBudget/);
      const limits = await h.create({});
      expect(limits.config).toMatchObject({ messagesPerSecond: 20, messageBurst: 40, sendsPerMinute: 30, socketsPerUser: 20 });
      await expect(limits.tokens.consume('u1', 1.5)).rejects.toThrow(RangeError);
      await expect(limits.sends.consume('')).rejects.toThrow(/userId/);
    });

    it.skipIf(!factory.shared)('counts once across two nodes (shared backends only)', async () => {
      const [a, b] = [await h.create({ sendsPerMinute: 3, socketsPerUser: 2, dailyTokenBudget: 100 }), await h.create({ sendsPerMinute: 3, socketsPerUser: 2, dailyTokenBudget: 100 })];
      const sends = [await a.sends.consume('u1'), await b.sends.consume('u1'), await a.sends.consume('u1'), await b.sends.consume('u1')];
      expect(sends.map((d) => d.ok)).toEqual([true, true, true, false]);
      expect((await a.sockets.acquire('u1')).ok).toBe(true);
      expect((await b.sockets.acquire('u1')).ok).toBe(true);
      expect((await a.sockets.acquire('u1')).ok).toBe(false);
      expect(await b.sockets.count('u1')).toBe(2);
      await a.tokens.consume('u1', 70);
      expect(await b.tokens.remaining('u1')).toBe(30);
      expect(await b.tokens.consume('u1', 40)).toMatchObject({ ok: false, code: 'quota_exceeded' });
    });
  });
}
