import { timingSafeEqual } from 'node:crypto';
import { json, type Router } from '../http/router.js';
import type { Metrics } from './metrics.js';

/** `GET /metrics`: the Prometheus text, behind a bearer token when `METRICS_TOKEN` is set. */
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
