import type { TokenService } from '../auth/tokens.js';
import { GatewayError } from '../errors.js';
import type { HttpRequest } from '../transport/types.js';

/** The user id of a request's `Authorization: Bearer` access token; 401 otherwise. */
export async function requireUser(req: HttpRequest, tokens: TokenService): Promise<string> {
  const m = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '');
  if (!m) throw new GatewayError('unauthorized', 'send an Authorization: Bearer access token');
  const r = await tokens.verifyAccess(m[1]!);
  if (!r.ok) throw new GatewayError('unauthorized', r.why === 'expired' ? 'access token expired; refresh it' : 'access token is invalid');
  return r.claims.userId;
}
