import type { Authenticator } from '../auth/authenticator.js';
import { GatewayError } from '../errors.js';
import type { Storage } from '../ports.js';
import { requireUser } from './auth-guard.js';
import { json, type Router } from './router.js';

/** `/v1/me/memories`: users see and delete what the agent keeps about them. */
export function addMemoryRoutes(router: Router, deps: { authn: Authenticator; storage: Storage }): void {
  const { authn, storage } = deps;
  router
    .add('GET', '/v1/me/memories', async ({ req }) => {
      const userId = await requireUser(req, authn);
      return json(200, { memories: await storage.memories.list(userId) });
    })
    .add('DELETE', '/v1/me/memories', async ({ req }) => {
      const userId = await requireUser(req, authn);
      return json(200, { deleted: await storage.memories.delete(userId) });
    })
    .add('DELETE', '/v1/me/memories/:id', async ({ req, params }) => {
      const userId = await requireUser(req, authn);
      if ((await storage.memories.delete(userId, params.id!)) === 0) throw new GatewayError('not_found', 'no such memory');
      return json(204, null);
    });
}
