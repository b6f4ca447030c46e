import { LoginGuard } from './login-guard.js';

describe('LoginGuard', () => {
  beforeEach(() => vi.useFakeTimers({ toFake: ['Date'], now: Date.UTC(2026, 0, 1) }));
  afterEach(() => vi.useRealTimers());

  const fail = async (g: LoginGuard, account: string, address: string, n: number) => {
    for (let i = 0; i < n; i++) await g.failed(account, address);
  };

  it('locks the failing (account, address) pair and nobody else', async () => {
    const g = new LoginGuard({ attempts: 3 });
    await fail(g, 'a@x.co', '10.0.0.1', 3);
    expect(await g.check('a@x.co', '10.0.0.1')).toMatchObject({ scope: 'pair', retryAfterMs: 30_000 });
    expect(await g.check('a@x.co', '10.0.0.2')).toBeNull();
    expect(await g.check('b@x.co', '10.0.0.1')).toBeNull();
  });

  it('D3: backs off exponentially: each failure after a lock doubles the next one, up to the window', async () => {
    const g = new LoginGuard({ attempts: 2, firstLockS: 30, windowS: 900 });
    const locks: number[] = [];
    await g.failed('a@x.co', 'ip');
    for (let i = 0; i < 7; i++) {
      const r = await g.failed('a@x.co', 'ip');
      locks.push(r!.lockedForMs / 1000);
      vi.setSystemTime(Date.now() + r!.lockedForMs + 1);
      expect(await g.check('a@x.co', 'ip')).toBeNull();
    }
    expect(locks).toEqual([30, 60, 120, 240, 480, 900, 900]);
  });

  it('D3: past the account ceiling refuses addresses that failed, never one that has not', async () => {
    const g = new LoginGuard({ attempts: 3, accountCeiling: 6 });
    for (let a = 0; a < 6; a++) await fail(g, 'a@x.co', `10.0.1.${a}`, 1);
    expect(await g.check('a@x.co', '10.0.1.0')).toMatchObject({ scope: 'account' });
    expect(await g.check('a@x.co', '10.0.1.99')).toBeNull();
  });

  it('locks an address that fails on many accounts (credential stuffing)', async () => {
    const g = new LoginGuard({ attempts: 10, addressCeiling: 4 });
    for (let i = 0; i < 4; i++) await g.failed(`u${i}@x.co`, '10.0.2.1');
    expect(await g.check('fresh@x.co', '10.0.2.1')).toMatchObject({ scope: 'address' });
    expect(await g.check('fresh@x.co', '10.0.2.2')).toBeNull();
  });

  it('clears the pair on success and forgets failures after the window', async () => {
    const g = new LoginGuard({ attempts: 3, windowS: 60 });
    await fail(g, 'a@x.co', 'ip', 2);
    await g.succeeded('a@x.co', 'ip');
    await fail(g, 'a@x.co', 'ip', 2);
    expect(await g.check('a@x.co', 'ip')).toBeNull();
    await fail(g, 'a@x.co', 'ip', 1);
    expect(await g.check('a@x.co', 'ip')).not.toBeNull();
    vi.setSystemTime(Date.now() + 61_000);
    expect(await g.check('a@x.co', 'ip')).toBeNull();
  });
});
