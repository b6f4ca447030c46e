import type { Storage } from '../ports.js';
import type { AccessClaims, ResumeClaims, TokenService } from './tokens.js';

/** Why a presented token does not authenticate. */
export type AuthFailure = 'expired' | 'invalid' | 'unknown_user' | 'revoked';

export type Authenticated<C> = { ok: true; claims: C } | { ok: false; why: AuthFailure };

export interface AuthenticatorOptions {
  tokens: TokenService;
  storage: Pick<Storage, 'users' | 'refreshTokens'>;
  /** How long a user seen to exist is trusted without asking the database again. @default 10000 */
  userCacheMs?: number;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const MAX_CACHED = 10_000;

/**
 * Turns a presented token into a user, in one place for HTTP and the socket: the signature and
 * claims (TokenService), then that the user still exists; for a resume token also that the
 * sign-in it came from is still live, so logout, refresh-token reuse detection and a deleted user
 * end it (DESIGN §3).
 * @example
 * const r = await authenticator.access(bearer);
 * if (!r.ok) throw unauthorized(r.why);
 */
export class Authenticator {
  private readonly known = new Map<string, number>();
  private readonly cacheMs: number;

  constructor(private readonly o: AuthenticatorOptions) {
    this.cacheMs = o.userCacheMs ?? 10_000;
  }

  /** An access token of an existing user. */
  async access(token: string): Promise<Authenticated<AccessClaims>> {
    const r = await this.o.tokens.verifyAccess(token);
    if (!r.ok) return r;
    if (!(await this.userExists(r.claims.userId))) return { ok: false, why: 'unknown_user' };
    return r;
  }

  /** A resume token of an existing user whose sign-in is still live. */
  async resume(token: string): Promise<Authenticated<ResumeClaims & { loginId: string }>> {
    const r = await this.o.tokens.verifyResume(token);
    if (!r.ok) return r;
    const { userId, loginId } = r.claims;
    // A resume token without a sign-in (issued before they were bound) cannot be revoked: refuse it.
    if (!loginId || !UUID.test(userId)) return { ok: false, why: 'revoked' };
    if (!(await this.o.storage.refreshTokens.isFamilyLive(loginId, userId))) return { ok: false, why: 'revoked' };
    return { ok: true, claims: { ...r.claims, loginId } };
  }

  private async userExists(userId: string): Promise<boolean> {
    if (!UUID.test(userId)) return false;
    const until = this.known.get(userId);
    if (until !== undefined && until > Date.now()) return true;
    const exists = (await this.o.storage.users.findById(userId)) !== null;
    if (exists) {
      if (this.known.size >= MAX_CACHED) this.known.clear();
      this.known.set(userId, Date.now() + this.cacheMs);
    } else this.known.delete(userId);
    return exists;
  }
}
