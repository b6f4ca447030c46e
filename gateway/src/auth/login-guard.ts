import { RateLimiterMemory, type RateLimiterAbstract } from 'rate-limiter-flexible';

/** Builds one counter (Redis-backed in scale-out so every node counts together). */
export type LimiterFactory = (opts: { keyPrefix: string; points: number; duration: number }) => RateLimiterAbstract;

export interface LoginGuardOptions {
  /** Failed sign-ins per (account, address) in the window before that pair is locked. @default 10 */
  attempts?: number;
  /**
   * Failed sign-ins per account from all addresses in the window after which addresses that
   * have already failed on it are refused; addresses that have not failed are still checked.
   * @default 10 × attempts
   */
  accountCeiling?: number;
  /** Failed sign-ins per address over all accounts in the window (credential stuffing). @default 5 × attempts */
  addressCeiling?: number;
  /** The counting window in seconds (a pair's failures are kept 4 windows). @default 900 (15 min) */
  windowS?: number;
  /** The first lock of a pair in seconds; each later failure doubles it, up to the window. @default 30 */
  firstLockS?: number;
  /** @default in-memory counters */
  limiter?: LimiterFactory;
}

/** Why a sign-in attempt is refused before its password is checked. */
export interface LoginRefusal {
  scope: 'pair' | 'address' | 'account';
  retryAfterMs: number;
}

const DEFAULTS = { attempts: 10, windowS: 15 * 60, firstLockS: 30 };
const COUNTER_POINTS = 1_000_000_000;

/**
 * Brute-force protection for sign-in that nobody can turn against the owner: failures lock the
 * (account, address) pair with an exponential backoff, an address that fails on many accounts is
 * locked everywhere, and an account under a distributed attack refuses only the addresses that
 * have already failed on it. A correct password from an address that has not failed is always
 * checked.
 * @example
 * const refusal = await guard.check(email, ip);
 * if (refusal) throw rateLimited(refusal.retryAfterMs);
 * if (!ok) await guard.failed(email, ip); else await guard.succeeded(email, ip);
 */
export class LoginGuard {
  private readonly o: Required<Omit<LoginGuardOptions, 'limiter'>>;
  private readonly pairs: RateLimiterAbstract;
  private readonly accounts: RateLimiterAbstract;
  private readonly addresses: RateLimiterAbstract;
  private readonly locks: RateLimiterAbstract;

  constructor(options: LoginGuardOptions = {}) {
    const attempts = options.attempts ?? DEFAULTS.attempts;
    this.o = {
      attempts,
      accountCeiling: options.accountCeiling ?? attempts * 10,
      addressCeiling: options.addressCeiling ?? attempts * 5,
      windowS: options.windowS ?? DEFAULTS.windowS,
      firstLockS: options.firstLockS ?? DEFAULTS.firstLockS,
    };
    const make = options.limiter ?? ((opts) => new RateLimiterMemory(opts));
    const counter = (keyPrefix: string, duration = this.o.windowS) => make({ keyPrefix, points: COUNTER_POINTS, duration });
    // A pair remembers its failures for longer than its longest lock, so the backoff keeps growing.
    this.pairs = counter('login_pair', this.o.windowS * 4);
    this.accounts = counter('login_acct');
    this.addresses = counter('login_ip');
    this.locks = make({ keyPrefix: 'login_lock', points: 1, duration: this.o.windowS });
  }

  /** Null when the attempt may check its password; otherwise why not and for how long. */
  async check(account: string, address: string): Promise<LoginRefusal | null> {
    const pair = pairKey(account, address);
    const [lock, pairFailures, accountFailures, addressFailures] = await Promise.all([
      get(this.locks, pair),
      get(this.pairs, pair),
      get(this.accounts, account),
      get(this.addresses, address),
    ]);
    if (lock && lock.consumedPoints > 1) return { scope: 'pair', retryAfterMs: lock.msBeforeNext };
    if (addressFailures && addressFailures.consumedPoints >= this.o.addressCeiling) return { scope: 'address', retryAfterMs: addressFailures.msBeforeNext };
    if (accountFailures && accountFailures.consumedPoints >= this.o.accountCeiling && pairFailures && pairFailures.consumedPoints > 0)
      return { scope: 'account', retryAfterMs: accountFailures.msBeforeNext };
    return null;
  }

  /** Counts a wrong password; returns the lock it set on the pair, if any. */
  async failed(account: string, address: string): Promise<{ lockedForMs: number } | null> {
    const pair = pairKey(account, address);
    const [pairRes] = await Promise.all([this.pairs.penalty(pair, 1), this.accounts.penalty(account, 1), this.addresses.penalty(address, 1)]);
    const failures = pairRes.consumedPoints;
    if (failures < this.o.attempts) return null;
    const lockS = Math.min(this.o.windowS, this.o.firstLockS * 2 ** Math.min(20, failures - this.o.attempts));
    await this.locks.block(pair, lockS);
    return { lockedForMs: lockS * 1000 };
  }

  /** A correct password clears that pair's failures and lock (the account's count stays). */
  async succeeded(account: string, address: string): Promise<void> {
    const pair = pairKey(account, address);
    await Promise.all([this.pairs.delete(pair), this.locks.delete(pair)]).catch(() => {});
  }
}

const pairKey = (account: string, address: string) => `${account}|${address}`;

/** A live counter, or null (an expired one counts as none). */
async function get(limiter: RateLimiterAbstract, key: string) {
  const r = await limiter.get(key).catch(() => null);
  return r && r.msBeforeNext > 0 ? r : null;
}
