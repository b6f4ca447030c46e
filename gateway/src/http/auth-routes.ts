import { LoginBody, RefreshBody, RegisterBody } from '@switchboard/protocol';
import type { AuthService } from '../auth/auth-service.js';
import type { Authenticator } from '../auth/authenticator.js';
import { GatewayError } from '../errors.js';
import type { Storage } from '../ports.js';
import { requireUser } from './auth-guard.js';
import { json, parseBody, type Router } from './router.js';

/** `/v1/auth/*` and `/v1/me`. */
export function addAuthRoutes(router: Router, deps: { auth: AuthService; authn: Authenticator; storage: Storage }): void {
  const { auth, authn, storage } = deps;
  router
    .add('POST', '/v1/auth/register', async ({ req, requestId }) => {
      const body = parseBody(req, RegisterBody);
      return json(201, await auth.register(body.email, body.password, req.remoteAddress, requestId));
    })
    .add('POST', '/v1/auth/login', async ({ req, requestId }) => {
      const body = parseBody(req, LoginBody, { form: true });
      return json(200, await auth.login(body.email, body.password, req.remoteAddress, requestId));
    })
    .add('POST', '/v1/auth/refresh', async ({ req }) => json(200, await auth.refresh(parseBody(req, RefreshBody).refreshToken)))
    .add('POST', '/v1/auth/logout', async ({ req }) => {
      await auth.logout(parseBody(req, RefreshBody).refreshToken);
      return json(204, null);
    })
    .add('GET', '/v1/me', async ({ req }) => {
      const user = await storage.users.findById(await requireUser(req, authn));
      if (!user) throw new GatewayError('unauthorized', 'the account no longer exists');
      return json(200, { id: user.id, email: user.email, createdAt: user.createdAt });
    });
}
