import type { Authenticator } from '../auth/authenticator.js';
import { GatewayError } from '../errors.js';
import type { HttpRequest } from '../transport/types.js';

const MESSAGES = {
  expired: 'access token expired; refresh it',
  invalid: 'access token is invalid',
  unknown_user: 'the account no longer exists',
  revoked: 'access token is invalid',
} as const;

/** The user id of a request's `Authorization: Bearer` access token (of a user that exists); 401 otherwise. */
export async function requireUser(req: HttpRequest, authn: Authenticator): Promise<string> {
  const m = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '');
  if (!m) throw new GatewayError('unauthorized', 'send an Authorization: Bearer access token');
  const r = await authn.access(m[1]!);
  if (!r.ok) throw new GatewayError('unauthorized', MESSAGES[r.why]);
  return r.claims.userId;
}
