import type { Logger } from '../logger.js';

/** Security-relevant events, each logged once at `warn` with a stable `event` field. */
export const SecurityEvent = {
  loginFailed: 'login_failed',
  loginLocked: 'login_locked',
  rateLimited: 'rate_limited',
  tokenRefused: 'token_refused',
  resumeRefused: 'resume_refused',
  refreshReuse: 'refresh_reuse',
  originRefused: 'origin_refused',
  socketAbuse: 'socket_abuse',
} as const;
export type SecurityEvent = (typeof SecurityEvent)[keyof typeof SecurityEvent];

/** What a security line may carry: who and where, never a password, token or message text. */
export interface SecurityFields {
  /** The client address (after TRUST_PROXY). */
  address?: string;
  userId?: string;
  connectionId?: string;
  /** Which limit refused (`registrations`, `sessions`, `login`, `messages`, …). */
  limit?: string;
  /** Why a token was refused (`expired`, `invalid`, `unknown_user`, `revoked`). */
  why?: string;
  /** Where: `http` or `socket`. */
  surface?: 'http' | 'socket';
  retryAfterMs?: number;
  [key: string]: string | number | boolean | undefined;
}

/**
 * Logs a security event at `warn`; callers pass the ids they have (request, connection, user),
 * and the logger's redaction drops any secret-named field.
 * @example securityLog(logger, SecurityEvent.loginFailed, { address: req.remoteAddress });
 */
export function securityLog(logger: Logger, event: SecurityEvent, fields: SecurityFields = {}): void {
  logger.warn(`security: ${event}`, { event, ...fields });
}
