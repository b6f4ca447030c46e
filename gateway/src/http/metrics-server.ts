import { timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface MetricsServerOptions {
  host: string;
  /** 0 picks a free port (tests). */
  port: number;
  scrape(): Promise<string>;
  /** When set, `Authorization: Bearer <token>` is required here too. */
  token?: string;
}

/** The bearer check of `/metrics`, in constant time. */
export function metricsAuthorized(expected: string | undefined, authorization: string | undefined): boolean {
  if (!expected) return true;
  const want = Buffer.from(`Bearer ${expected}`);
  const got = Buffer.from(authorization ?? '');
  return got.length === want.length && timingSafeEqual(got, want);
}

/**
 * A listener of its own for `GET /metrics` (`METRICS_PORT`), so the scrape port can stay off the
 * public proxy. Serves nothing else.
 * @example const m = await startMetricsServer({ host: '0.0.0.0', port: 9464, scrape: () => metrics.scrape() });
 */
export async function startMetricsServer(o: MetricsServerOptions): Promise<{ port: number; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    const base = { 'x-content-type-options': 'nosniff', 'referrer-policy': 'no-referrer', 'cache-control': 'no-store' };
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/metrics' || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(404, { ...base, 'content-type': 'application/json' }).end(JSON.stringify({ error: { code: 'not_found', message: 'no such route' } }));
      return;
    }
    if (!metricsAuthorized(o.token, req.headers.authorization)) {
      res.writeHead(401, { ...base, 'content-type': 'application/json', 'www-authenticate': 'Bearer' }).end(JSON.stringify({ error: { code: 'unauthorized', message: 'a metrics bearer token is required' } }));
      return;
    }
    o.scrape().then(
      (text) => res.writeHead(200, { ...base, 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }).end(text),
      () => res.writeHead(500, base).end(),
    );
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(o.port, o.host, () => resolve()));
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
