import { createHash, randomBytes } from 'node:crypto';
import { SignJWT, errors as joseErrors, jwtVerify } from 'jose';

/** The `typ` claim that keeps access and resume tokens apart. */
export const TokenType = { access: 'access', resume: 'resume' } as const;
export type TokenType = (typeof TokenType)[keyof typeof TokenType];

export interface AccessClaims {
  userId: string;
  email?: string;
  /** The sign-in this token belongs to (its refresh-token family; claim `sid`). */
  loginId?: string;
}

export interface ResumeClaims {
  userId: string;
  /** The connection that issued it. */
  connectionId: string;
  /** The sign-in the connection was authenticated by (claim `sid`); a resume dies with it. */
  loginId?: string;
}

/** Why a token was refused. */
export type TokenFailure = 'expired' | 'invalid';

const ISSUER = 'switchboard';

/** Signs and verifies the gateway's JWTs (HS256). */
export class TokenService {
  private readonly key: Uint8Array;
  constructor(
    secret: string,
    private readonly ttl: { accessS: number; resumeS: number },
  ) {
    this.key = new TextEncoder().encode(secret);
  }

  async signAccess(claims: AccessClaims): Promise<{ token: string; expiresAt: Date }> {
    const expiresAt = new Date(Date.now() + this.ttl.accessS * 1000);
    const token = await new SignJWT({ typ: TokenType.access, email: claims.email, sid: claims.loginId })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(claims.userId)
      .setIssuer(ISSUER)
      .setIssuedAt()
      .setExpirationTime(Math.floor(expiresAt.getTime() / 1000))
      .sign(this.key);
    return { token, expiresAt };
  }

  async signResume(claims: ResumeClaims): Promise<string> {
    return new SignJWT({ typ: TokenType.resume, cid: claims.connectionId, sid: claims.loginId })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(claims.userId)
      .setIssuer(ISSUER)
      .setIssuedAt()
      .setExpirationTime(`${this.ttl.resumeS}s`)
      .sign(this.key);
  }

  async verifyAccess(token: string): Promise<{ ok: true; claims: AccessClaims } | { ok: false; why: TokenFailure }> {
    const r = await this.verify(token, TokenType.access);
    if (!r.ok) return r;
    const sid = typeof r.payload.sid === 'string' ? r.payload.sid : undefined;
    return { ok: true, claims: { userId: r.payload.sub!, email: r.payload.email as string | undefined, loginId: sid } };
  }

  async verifyResume(token: string): Promise<{ ok: true; claims: ResumeClaims } | { ok: false; why: TokenFailure }> {
    const r = await this.verify(token, TokenType.resume);
    if (!r.ok) return r;
    const cid = r.payload.cid;
    if (typeof cid !== 'string') return { ok: false, why: 'invalid' };
    const sid = typeof r.payload.sid === 'string' ? r.payload.sid : undefined;
    return { ok: true, claims: { userId: r.payload.sub!, connectionId: cid, loginId: sid } };
  }

  private async verify(token: string, typ: TokenType) {
    try {
      const { payload } = await jwtVerify(token, this.key, { issuer: ISSUER, algorithms: ['HS256'] });
      if (payload.typ !== typ || typeof payload.sub !== 'string') return { ok: false as const, why: 'invalid' as const };
      return { ok: true as const, payload };
    } catch (e) {
      return { ok: false as const, why: e instanceof joseErrors.JWTExpired ? ('expired' as const) : ('invalid' as const) };
    }
  }
}

/** A new opaque refresh token and the hash that is stored. */
export function newRefreshToken(): { token: string; hash: string } {
  const token = randomBytes(32).toString('base64url');
  return { token, hash: hashRefreshToken(token) };
}

export function hashRefreshToken(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}
