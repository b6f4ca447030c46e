import { timingSafeEqual } from 'node:crypto';
import { toGatewayError } from '../errors.js';
import { json, type Router } from '../http/router.js';
import type { HttpRequest } from '../transport/types.js';
import type { Metrics } from './metrics.js';

/** Label for requests that matched no route (their paths are unbounded, so they share one). */
export const UNMATCHED_ROUTE = 'unmatched';

/**
 * Counts every request by method, route pattern (`/v1/sessions/:id`, never the concrete path) and
 * status. Call before routes are added: it wraps each handler as it is registered.
 */
export function instrumentRouter(router: Router, metrics: Metrics): Router {
  const seen = new WeakSet<HttpRequest>();
  const add = router.add.bind(router);
  const handle = router.handle.bind(router);
  router.add = (method, path, handler) =>
    add(method, path, async (ctx) => {
      seen.add(ctx.req);
      const started = performance.now();
      let status = 500;
      try {
        const res = await handler(ctx);
        status = res.status;
        return res;
      } catch (e) {
        status = toGatewayError(e).status;
        throw e;
      } finally {
        const seconds = (performance.now() - started) / 1000;
        metrics.http(ctx.req.method, path, status, seconds);
        // Other 429s come from the limiters, which count themselves.
        if (status === 429 && path === '/v1/auth/login') metrics.rateLimited('login');
      }
    });
  router.handle = async (req) => {
    const started = performance.now();
    const res = await handle(req);
    if (!seen.has(req)) metrics.http(req.method, UNMATCHED_ROUTE, res.status, (performance.now() - started) / 1000);
    return res;
  };
  return router;
}

/** `GET /metrics`: the Prometheus text; with a token set, only for `Authorization: Bearer <token>`. */
export function addMetricsRoute(router: Router, deps: { metrics: Metrics; token?: string }): void {
  const expected = deps.token ? Buffer.from(`Bearer ${deps.token}`) : null;
  router.add('GET', '/metrics', async ({ req }) => {
    if (expected) {
      const got = Buffer.from(req.headers.authorization ?? '');
      if (got.length !== expected.length || !timingSafeEqual(got, expected))
        return json(401, { error: { code: 'unauthorized', message: 'a metrics bearer token is required' } }, { 'www-authenticate': 'Bearer' });
    }
    return {
      status: 200,
      headers: { 'content-type': 'text/plain; version=0.0.4; charset=utf-8', 'cache-control': 'no-store' },
      body: await deps.metrics.scrape(),
    };
  });
}
