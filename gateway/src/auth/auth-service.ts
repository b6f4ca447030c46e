import { randomUUID } from 'node:crypto';
import { RateLimiterMemory, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { AuthResponse } from '@switchboard/protocol';
import { GatewayError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Storage } from '../ports.js';
import { DUMMY_HASH_PROMISE, hashPassword, passwordProblem, verifyPassword } from './passwords.js';
import { hashRefreshToken, newRefreshToken, type TokenService } from './tokens.js';

export interface AuthServiceOptions {
  storage: Storage;
  tokens: TokenService;
  logger: Logger;
  refreshTtlS: number;
  /** Failed logins allowed per account and per IP in 15 minutes. @default 10 */
  loginAttempts?: number;
  /** Limiter factory (Redis-backed in scale-out); memory by default. */
  limiter?: (opts: { keyPrefix: string; points: number; duration: number }) => RateLimiterAbstract;
}

const INVALID = 'email or password is incorrect';

/** Registration, login, refresh rotation with reuse detection, logout. */
export class AuthService {
  private readonly byAccount: RateLimiterAbstract;
  private readonly byIp: RateLimiterAbstract;

  constructor(private readonly o: AuthServiceOptions) {
    const make = o.limiter ?? ((opts) => new RateLimiterMemory(opts));
    const points = o.loginAttempts ?? 10;
    this.byAccount = make({ keyPrefix: 'login_acct', points, duration: 15 * 60 });
    this.byIp = make({ keyPrefix: 'login_ip', points: points * 5, duration: 15 * 60 });
  }

  async register(email: string, password: string): Promise<AuthResponse> {
    const problem = passwordProblem(password, email);
    if (problem) throw new GatewayError('bad_frame', problem);
    const passwordHash = await hashPassword(password);
    try {
      const user = await this.o.storage.users.create({ email, passwordHash });
      return this.issue(user.id, user.email, randomUUID());
    } catch (e) {
      if ((e as { code?: string }).code === 'conflict') throw new GatewayError('conflict', 'an account with this email already exists');
      throw e;
    }
  }

  async login(email: string, password: string, ip: string): Promise<AuthResponse> {
    await this.check(this.byIp, ip);
    await this.check(this.byAccount, email);
    const user = await this.o.storage.users.findByEmail(email);
    // Verify against a dummy hash when there is no such user, so timing tells nothing.
    const ok = await verifyPassword(password, user?.passwordHash ?? (await DUMMY_HASH_PROMISE));
    if (!user || !ok) {
      await Promise.all([this.byIp.penalty(ip, 1), this.byAccount.penalty(email, 1)]).catch(() => {});
      throw new GatewayError('unauthorized', INVALID);
    }
    await this.byAccount.delete(email).catch(() => {});
    return this.issue(user.id, user.email, randomUUID());
  }

  async refresh(refreshToken: string): Promise<AuthResponse> {
    const record = await this.o.storage.refreshTokens.findByHash(hashRefreshToken(refreshToken));
    if (!record || new Date(record.expiresAt).getTime() <= Date.now()) throw new GatewayError('unauthorized', 'refresh token is invalid or expired');
    if (record.revokedAt) {
      const n = await this.o.storage.refreshTokens.revokeFamily(record.familyId);
      this.o.logger.warn('refresh token reuse: family revoked', { userId: record.userId, revoked: n });
      throw new GatewayError('unauthorized', 'refresh token was already used; sign in again');
    }
    const user = await this.o.storage.users.findById(record.userId);
    if (!user) throw new GatewayError('unauthorized', 'refresh token is invalid or expired');
    const next = newRefreshToken();
    const stored = await this.o.storage.refreshTokens.create({
      userId: user.id,
      familyId: record.familyId,
      tokenHash: next.hash,
      expiresAt: new Date(Date.now() + this.o.refreshTtlS * 1000),
    });
    if (!(await this.o.storage.refreshTokens.rotate(record.id, stored.id))) {
      await this.o.storage.refreshTokens.revokeFamily(record.familyId);
      throw new GatewayError('unauthorized', 'refresh token was already used; sign in again');
    }
    const access = await this.o.tokens.signAccess({ userId: user.id, email: user.email, loginId: record.familyId });
    return { user: { id: user.id, email: user.email }, accessToken: access.token, refreshToken: next.token, expiresAt: access.expiresAt.toISOString() };
  }

  /** Revokes the refresh token's family; unknown tokens are ignored (logout is idempotent). */
  async logout(refreshToken: string): Promise<void> {
    const record = await this.o.storage.refreshTokens.findByHash(hashRefreshToken(refreshToken));
    if (record) await this.o.storage.refreshTokens.revokeFamily(record.familyId);
  }

  private async issue(userId: string, email: string, familyId: string): Promise<AuthResponse> {
    const refresh = newRefreshToken();
    await this.o.storage.refreshTokens.create({
      userId,
      familyId,
      tokenHash: refresh.hash,
      expiresAt: new Date(Date.now() + this.o.refreshTtlS * 1000),
    });
    // The family id names this sign-in: access and resume tokens carry it (`sid`) and die with it.
    const access = await this.o.tokens.signAccess({ userId, email, loginId: familyId });
    return { user: { id: userId, email }, accessToken: access.token, refreshToken: refresh.token, expiresAt: access.expiresAt.toISOString() };
  }

  private async check(limiter: RateLimiterAbstract, key: string): Promise<void> {
    const r = await limiter.get(key).catch(() => null);
    if (r && r.consumedPoints >= limiter.points) {
      throw new GatewayError('rate_limited', 'too many failed sign-in attempts; try again later', { retryAfterMs: r.msBeforeNext });
    }
  }
}
