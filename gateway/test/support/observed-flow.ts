/**
 * Test support (not exported by the package): a gateway on a model chain whose first model always
 * fails (so every request falls back), a local OTLP/Langfuse receiver, and a log capture; then the
 * flow a new user goes through — register, login, a socket chat with a tool call, a resume, a
 * token refresh — and a `/metrics` scrape.
 */
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { WS_PATH, type ServerFrame } from '@switchboard/protocol';
import { createMockOpenAI } from '@switchboard/mock-llm';
import winston from 'winston';
import { startGateway } from '../../src/app.js';
import { createBackends } from '../../src/backends/index.js';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { RawSocket } from './harness.js';

export const METRICS_TOKEN = 'metrics-token-for-tests';
export const PASSWORD = 'correct horse battery staple';
export const CHAT_TEXT = 'please compute 12*7 for me, zebra-lantern';

export interface ReceivedExport {
  path: string;
  headers: IncomingHttpHeaders;
  body: OtlpTraces;
}

/** The subset of the OTLP/JSON trace payload the tests read. */
export interface OtlpTraces {
  resourceSpans: Array<{
    resource?: { attributes?: OtlpAttribute[] };
    scopeSpans: Array<{ spans: OtlpSpan[] }>;
  }>;
}
export interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  attributes?: OtlpAttribute[];
  status?: { code?: number; message?: string };
}
export interface OtlpAttribute {
  key: string;
  value: { stringValue?: string; intValue?: string | number; boolValue?: boolean; doubleValue?: number };
}

export interface FlowResult {
  /** Log lines as parsed JSON objects, in order. */
  logs: Array<Record<string, unknown>>;
  rawLogs: string;
  exports: ReceivedExport[];
  scrape: string;
  unauthorizedScrapeStatus: number;
  secrets: { accessToken: string; refreshToken: string; newRefreshToken: string; resumeToken: string; password: string; text: string };
  ids: { userId: string; sessionId: string; runId: string };
  runFrames: ServerFrame[];
  resumed: boolean;
}

/** Starts everything, runs the flow, stops the gateway (flushing spans) and returns what was seen. */
export async function runObservedFlow(options: { transport?: 'uws' | 'ws' } = {}): Promise<FlowResult> {
  const exports: ReceivedExport[] = [];
  const receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      try {
        exports.push({ path: req.url ?? '', headers: req.headers, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as OtlpTraces });
      } catch {
        /* not JSON: ignored */
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  const receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  const mock = await createMockOpenAI({ port: 0, scenarios: { primary: { fault: '500' } } });

  let rawLogs = '';
  const capture = new Writable({
    write(chunk: Buffer, _enc, cb) {
      rawLogs += chunk.toString('utf8');
      cb();
    },
  });
  const model = (name: string) => ({ name, model: name, baseURL: mock.url, apiKey: 'mock-key', maxRetries: 1, retryBaseDelayMs: 1, retryMaxDelayMs: 5, breakerThreshold: 50 });
  const config = loadConfig({
    APP_ENV: 'test',
    HOST: '127.0.0.1',
    PORT: '0',
    TRANSPORT: options.transport ?? 'ws',
    JWT_SECRET: 'test-secret-test-secret-test-secret-0123',
    LOG_LEVEL: 'debug',
    METRICS_TOKEN,
    LLM_MODELS: JSON.stringify([model('primary'), model('backup')]),
    OTEL_EXPORTER_OTLP_ENDPOINT: receiverUrl,
    LANGFUSE_PUBLIC_KEY: 'pk-lf-test',
    LANGFUSE_SECRET_KEY: 'sk-lf-test',
    LANGFUSE_BASE_URL: receiverUrl,
  });
  const logger = createLogger({ level: 'debug', env: 'production', format: 'json' });
  logger.clear().add(new winston.transports.Stream({ stream: capture }));
  const backends = await createBackends(config, logger, { inMemoryDatabase: true });
  const gw = await startGateway(config, backends, logger);
  const wsUrl = gw.url.replace(/^http/, 'ws') + WS_PATH;
  const post = async (path: string, body: unknown, token?: string) => {
    const res = await fetch(gw.url + path, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as Record<string, any> };
  };
  const sockets: RawSocket[] = [];
  try {
    const email = `obs-${process.pid}-${Date.now()}@example.com`;
    const reg = await post('/v1/auth/register', { email, password: PASSWORD });
    if (reg.status !== 201) throw new Error(`register: ${reg.status}`);
    const login = await post('/v1/auth/login', { email, password: PASSWORD });
    if (login.status !== 200) throw new Error(`login: ${login.status}`);
    const accessToken = login.body.accessToken as string;
    const session = await post('/v1/sessions', {}, accessToken);
    const sessionId = session.body.id as string;

    const s1 = await RawSocket.open(wsUrl);
    sockets.push(s1);
    s1.send({ type: 'hello', token: accessToken });
    const ready = await s1.next('ready');
    s1.send({ type: 'send', id: 'm1', sessionId, text: CHAT_TEXT });
    const ack = await s1.next('ack');
    const runFrames = await s1.run(ack.runId);
    const lastSeq = Math.max(...runFrames.map((f) => ('seq' in f ? f.seq : 0)));
    s1.ws.close(1000);
    await s1.closed();

    const s2 = await RawSocket.open(wsUrl);
    sockets.push(s2);
    s2.send({ type: 'hello', resume: { token: ready.resume, after: { [sessionId]: lastSeq - 2 } } });
    const ready2 = await s2.next('ready');
    await s2.next('joined');

    const refreshed = await post('/v1/auth/refresh', { refreshToken: login.body.refreshToken });
    if (refreshed.status !== 200) throw new Error(`refresh: ${refreshed.status}`);

    const unauthorized = await fetch(`${gw.url}/metrics`);
    const scraped = await fetch(`${gw.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    if (scraped.status !== 200) throw new Error(`metrics: ${scraped.status}`);
    const scrape = await scraped.text();
    s2.ws.close(1000);
    await s2.closed();
    await gw.stop({ drainTimeoutMs: 500 });
    return {
      logs: rawLogs
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>),
      rawLogs,
      exports,
      scrape,
      unauthorizedScrapeStatus: unauthorized.status,
      secrets: {
        accessToken,
        refreshToken: login.body.refreshToken as string,
        newRefreshToken: refreshed.body.refreshToken as string,
        resumeToken: ready.resume,
        password: PASSWORD,
        text: CHAT_TEXT,
      },
      ids: { userId: ready.userId, sessionId, runId: ack.runId },
      runFrames,
      resumed: ready2.resumed,
    };
  } finally {
    for (const s of sockets) s.ws.terminate();
    await gw.stop({ drainTimeoutMs: 200 }).catch(() => {});
    await mock.close();
    // The exporters keep their connections alive; do not wait for them to time out.
    receiver.closeAllConnections();
    await new Promise<void>((r) => receiver.close(() => r()));
  }
}

/** Names of the metric families present in a Prometheus text scrape. */
export function scrapedMetricNames(text: string): Set<string> {
  const names = new Set<string>();
  for (const line of text.split('\n')) {
    const m = /^# TYPE (\S+) (\w+)/.exec(line);
    if (!m) continue;
    names.add(m[1]!);
    if (m[2] === 'histogram') for (const s of ['_bucket', '_sum', '_count']) names.add(m[1]! + s);
  }
  return names;
}
