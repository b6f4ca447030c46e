import { GatewayError } from '../errors.js';
import { json, Router } from '../http/router.js';
import type { HttpRequest } from '../transport/types.js';
import { createLimiters } from '../limits/index.js';
import { addMetricsRoute } from './http.js';
import { createInstrumentation } from './instrumentation.js';
import { createMetrics } from './metrics.js';

const req = (method: string, path: string, headers: Record<string, string> = {}): HttpRequest => ({
  method,
  path,
  query: new URLSearchParams(),
  headers,
  body: Buffer.alloc(0),
  remoteAddress: '127.0.0.1',
  signal: new AbortController().signal,
});

describe('HTTP instrumentation', () => {
  it('labels by route pattern and status, unmatched paths share one label', async () => {
    const metrics = createMetrics();
    const router = new Router({ instrumentation: createInstrumentation(metrics, () => {}) });
    router.add('GET', '/v1/sessions/:id', async ({ params }) => json(200, { id: params.id }));
    router.add('POST', '/v1/auth/login', async () => {
      throw new GatewayError('rate_limited', 'slow down');
    });
    expect((await router.handle(req('GET', '/v1/sessions/abc-123'))).status).toBe(200);
    expect((await router.handle(req('POST', '/v1/auth/login'))).status).toBe(429);
    expect((await router.handle(req('GET', '/wp-admin/x'))).status).toBe(404);
    const text = await metrics.scrape();
    expect(text).toContain('switchboard_http_requests_total{method="GET",route="/v1/sessions/:id",status="200"} 1');
    expect(text).toContain('switchboard_http_requests_total{method="POST",route="/v1/auth/login",status="429"} 1');
    expect(text).toContain('switchboard_http_requests_total{method="GET",route="unmatched",status="404"} 1');
    expect(text).toContain('switchboard_rate_limited_total{limit="login"} 1');
    expect(text).not.toContain('abc-123');
    expect(text).not.toContain('wp-admin');
  });
});

describe('GET /metrics', () => {
  it('needs the bearer token when one is set', async () => {
    const metrics = createMetrics();
    const router = new Router();
    addMetricsRoute(router, { metrics, token: 's3cret-token' });
    expect((await router.handle(req('GET', '/metrics'))).status).toBe(401);
    expect((await router.handle(req('GET', '/metrics', { authorization: 'Bearer wrong' }))).status).toBe(401);
    const ok = await router.handle(req('GET', '/metrics', { authorization: 'Bearer s3cret-token' }));
    expect(ok.status).toBe(200);
    expect(ok.headers?.['content-type']).toMatch(/^text\/plain/);
    expect('body' in ok && String(ok.body)).toContain('switchboard_connections 0');
  });

  it('is open without a token', async () => {
    const router = new Router();
    addMetricsRoute(router, { metrics: createMetrics() });
    expect((await router.handle(req('GET', '/metrics'))).status).toBe(200);
  });
});

describe('label bounds', () => {
  it('folds label values past the limit into other', async () => {
    const metrics = createMetrics();
    for (let i = 0; i < 100; i++) metrics.toolCall(`tool-${i}`, true, 0.01);
    const text = await metrics.scrape();
    const series = text.split('\n').filter((l) => l.startsWith('switchboard_tool_calls_total{'));
    expect(series.length).toBeLessThanOrEqual(257);
    const tools = text.split('\n').filter((l) => l.startsWith('switchboard_tool_duration_seconds_count{'));
    expect(tools.length).toBe(65); // 64 distinct tools, then "other"
    expect(text).toContain('switchboard_tool_duration_seconds_count{tool="other"} 36');
  });
});

describe('limiter refusals', () => {
  it('counts refusals by the limit that refused', async () => {
    const metrics = createMetrics();
    const events = createInstrumentation(metrics, () => {});
    const limiters = createLimiters({ messagesPerSecond: 1, messageBurst: 1, socketsPerUser: 1 });
    limiters.onDenied((limit) => events.limited(limit));
    expect((await limiters.messages.consume('c1')).ok).toBe(true);
    expect((await limiters.messages.consume('c1')).ok).toBe(false);
    expect((await limiters.sockets.acquire('u1')).ok).toBe(true);
    expect((await limiters.sockets.acquire('u1')).ok).toBe(false);
    const text = await metrics.scrape();
    expect(text).toContain('switchboard_rate_limited_total{limit="messages"} 1');
    expect(text).toContain('switchboard_rate_limited_total{limit="sockets"} 1');
    expect(text).toContain('switchboard_rate_limited_total{limit="sends"} 0');
  });
});
