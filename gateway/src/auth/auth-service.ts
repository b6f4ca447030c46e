import { randomUUID } from 'node:crypto';
import type { AuthResponse } from '@switchboard/protocol';
import { GatewayError } from '../errors.js';
import type { RateLimit } from '../limits/types.js';
import type { Logger } from '../logger.js';
import { securityLog, SecurityEvent } from '../observability/security-log.js';
import type { Storage } from '../ports.js';
import { LoginGuard, type LimiterFactory } from './login-guard.js';
import { DUMMY_HASH_PROMISE, hashPassword, passwordProblem, verifyPassword } from './passwords.js';
import { hashRefreshToken, newRefreshToken, type TokenService } from './tokens.js';

export interface AuthServiceOptions {
  storage: Storage;
  tokens: TokenService;
  logger: Logger;
  refreshTtlS: number;
  /** Failed logins per (account, address) in 15 minutes before that pair is locked. @default 10 */
  loginAttempts?: number;
  /** Failed logins per account in 15 minutes after which only addresses that have not failed may try. @default 10 × loginAttempts */
  accountCeiling?: number;
  /** Limiter factory (Redis-backed in scale-out); memory by default. */
  limiter?: LimiterFactory;
  /** Sign-ups per client address. @default unlimited */
  registrations?: RateLimit;
}

const INVALID = 'email or password is incorrect';

/** Registration, login, refresh rotation with reuse detection, logout. */
export class AuthService {
  private readonly guard: LoginGuard;

  constructor(private readonly o: AuthServiceOptions) {
    this.guard = new LoginGuard({ attempts: o.loginAttempts, accountCeiling: o.accountCeiling, limiter: o.limiter });
  }

  /**
   * Creates an account. An email that is taken answers 409 `conflict` after the same work as a
   * new one (the password is hashed first); sign-ups are limited per address, which bounds what
   * anyone learns about registered emails (SECURITY.md says why this is the chosen answer).
   * `requestId`: the HTTP request's id, on its security lines.
   */
  async register(email: string, password: string, address = 'unknown', requestId?: string): Promise<AuthResponse> {
    const problem = passwordProblem(password, email);
    if (problem) throw new GatewayError('bad_frame', problem);
    const allowed = (await this.o.registrations?.consume(address || 'unknown')) ?? { ok: true as const };
    if (!allowed.ok) {
      securityLog(this.o.logger, SecurityEvent.rateLimited, { limit: 'registrations', address, requestId, surface: 'http', retryAfterMs: allowed.retryAfterMs });
      throw new GatewayError('rate_limited', 'too many sign-ups from this address; try again later', { retryAfterMs: allowed.retryAfterMs });
    }
    const passwordHash = await hashPassword(password);
    try {
      const user = await this.o.storage.users.create({ email, passwordHash });
      return this.issue(user.id, user.email, randomUUID());
    } catch (e) {
      if ((e as { code?: string }).code === 'conflict') throw new GatewayError('conflict', 'an account with this email already exists');
      throw e;
    }
  }

  /** `requestId`: the HTTP request's id, on its security lines. */
  async login(email: string, password: string, address: string, requestId?: string): Promise<AuthResponse> {
    const refusal = await this.guard.check(email, address);
    if (refusal) {
      securityLog(this.o.logger, SecurityEvent.rateLimited, { limit: 'login', scope: refusal.scope, address, requestId, surface: 'http', retryAfterMs: refusal.retryAfterMs });
      throw new GatewayError('rate_limited', 'too many failed sign-in attempts; try again later', { retryAfterMs: refusal.retryAfterMs });
    }
    const user = await this.o.storage.users.findByEmail(email);
    // Verify against a dummy hash when there is no such user, so timing tells nothing.
    const ok = await verifyPassword(password, user?.passwordHash ?? (await DUMMY_HASH_PROMISE));
    if (!user || !ok) {
      const lock = await this.guard.failed(email, address).catch(() => null);
      securityLog(this.o.logger, SecurityEvent.loginFailed, { address, requestId, userId: user?.id, knownAccount: user !== null, surface: 'http' });
      if (lock) securityLog(this.o.logger, SecurityEvent.loginLocked, { address, requestId, userId: user?.id, retryAfterMs: lock.lockedForMs, surface: 'http' });
      throw new GatewayError('unauthorized', INVALID);
    }
    await this.guard.succeeded(email, address);
    return this.issue(user.id, user.email, randomUUID());
  }

  async refresh(refreshToken: string): Promise<AuthResponse> {
    const record = await this.o.storage.refreshTokens.findByHash(hashRefreshToken(refreshToken));
    if (!record || new Date(record.expiresAt).getTime() <= Date.now()) throw new GatewayError('unauthorized', 'refresh token is invalid or expired');
    if (record.revokedAt) {
      const n = await this.o.storage.refreshTokens.revokeFamily(record.familyId);
      securityLog(this.o.logger, SecurityEvent.refreshReuse, { userId: record.userId, revoked: n, surface: 'http' });
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
}
