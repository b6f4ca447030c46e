import { createNodeClient, type SwitchboardClient } from '@switchboard/protocol/node';
import { SUBPROTOCOL, WS_PATH, type ServerFrame } from '@switchboard/protocol';
import { Writable } from 'node:stream';
import winston from 'winston';
import WebSocket from 'ws';
import { startGateway, type Gateway } from '../../src/app.js';
import { createBackends, type BackendOverrides, type Backends } from '../../src/backends/index.js';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';

export interface TestGateway {
  gw: Gateway;
  backends: Backends;
  url: string;
  wsUrl: string;
  /** Registers a fresh user; returns its access token and id. */
  user(): Promise<{ token: string; userId: string; email: string; refreshToken: string }>;
  session(token: string, title?: string): Promise<string>;
  client(token: string): SwitchboardClient;
  raw(options?: { token?: string; headers?: Record<string, string> }): Promise<RawSocket>;
  http(method: string, path: string, options?: { token?: string; body?: unknown; headers?: Record<string, string>; raw?: string }): Promise<{ status: number; body: any; headers: Headers }>;
  stop(): Promise<void>;
}

let counter = 0;

/** Starts a gateway on port 0 with embedded backends (in-memory PGlite unless `storage` is given). */
export async function startTestGateway(options: {
  transport: 'uws' | 'ws';
  env?: Record<string, string>;
  overrides?: BackendOverrides;
  /** Receives every log line (debug and up, as written, after redaction); the console keeps LOG_LEVEL. */
  logSink?: (line: Record<string, unknown>) => void;
}): Promise<TestGateway> {
  const config = loadConfig({
    APP_ENV: 'test',
    HOST: '127.0.0.1',
    PORT: '0',
    TRANSPORT: options.transport,
    LOCAL_MODEL_TOKEN_DELAY_MS: '1',
    JWT_SECRET: 'test-secret-test-secret-test-secret-0123',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'error',
    // Suites register many users and sessions from one address; the limit tests lower these.
    RATE_REGISTRATIONS_PER_IP_PER_HOUR: '1000000',
    RATE_SESSIONS_PER_USER_PER_MINUTE: '1000000',
    ...options.env,
  });
  const logger = createLogger({ level: options.logSink ? 'debug' : config.LOG_LEVEL, env: 'test', format: 'json' });
  if (options.logSink) {
    const sink = options.logSink;
    for (const transport of logger.transports) transport.level = config.LOG_LEVEL;
    const stream = new Writable({
      write(chunk, _encoding, done) {
        sink(JSON.parse(String(chunk)) as Record<string, unknown>);
        done();
      },
    });
    logger.add(new winston.transports.Stream({ stream, level: 'debug' }));
  }
  const backends = await createBackends(config, logger, { inMemoryDatabase: true, ...options.overrides });
  const gw = await startGateway(config, backends, logger);
  const url = gw.url;
  const wsUrl = url.replace(/^http/, 'ws') + WS_PATH;
  const clients: SwitchboardClient[] = [];
  const raws: RawSocket[] = [];

  const http: TestGateway['http'] = async (method, path, o = {}) => {
    const headers: Record<string, string> = { ...o.headers };
    if (o.token) headers.authorization = `Bearer ${o.token}`;
    if (o.body !== undefined || o.raw !== undefined) headers['content-type'] ??= 'application/json';
    const res = await fetch(url + path, { method, headers, body: o.raw ?? (o.body !== undefined ? JSON.stringify(o.body) : undefined) });
    const text = await res.text();
    let body: unknown = text;
    try {
      body = text ? JSON.parse(text) : null;
    } catch {
      /* not JSON */
    }
    return { status: res.status, body, headers: res.headers };
  };

  return {
    gw,
    backends,
    url,
    wsUrl,
    http,
    async user() {
      const email = `user${++counter}-${process.pid}-${Date.now()}@example.com`;
      const r = await http('POST', '/v1/auth/register', { body: { email, password: 'correct horse battery' } });
      if (r.status !== 201) throw new Error(`register failed: ${r.status} ${JSON.stringify(r.body)}`);
      return { token: r.body.accessToken, userId: r.body.user.id, email, refreshToken: r.body.refreshToken };
    },
    async session(token, title) {
      const r = await http('POST', '/v1/sessions', { token, body: title ? { title } : {} });
      if (r.status !== 201) throw new Error(`session failed: ${r.status}`);
      return r.body.id as string;
    },
    client(token) {
      const c = createNodeClient({ url: wsUrl, token, reconnect: false });
      clients.push(c);
      return c;
    },
    async raw(o = {}) {
      const s = await RawSocket.open(wsUrl, o.headers);
      raws.push(s);
      if (o.token) {
        s.send({ type: 'hello', token: o.token });
        await s.next('ready');
      }
      return s;
    },
    async stop() {
      for (const c of clients) c.close();
      for (const r of raws) r.ws.terminate();
      await gw.stop({ drainTimeoutMs: 500 });
    },
  };
}

/** A bare `ws` socket that records every frame and its close code, for protocol-level tests. */
export class RawSocket {
  readonly frames: ServerFrame[] = [];
  closeCode: number | null = null;
  private waiters: Array<() => void> = [];
  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      this.frames.push(JSON.parse(String(data)) as ServerFrame);
      this.wake();
    });
    ws.on('close', (code) => {
      this.closeCode = code;
      this.wake();
    });
    ws.on('error', () => {});
  }

  static open(url: string, headers?: Record<string, string>): Promise<RawSocket> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, SUBPROTOCOL, { headers });
      const s = new RawSocket(ws);
      ws.once('open', () => resolve(s));
      ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
      ws.once('error', reject);
    });
  }

  send(frame: unknown): void {
    this.ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  /** Waits for the next frame of `type` (not yet consumed by an earlier `next`). */
  async next<T extends ServerFrame['type']>(type: T, timeoutMs = 5000): Promise<Extract<ServerFrame, { type: T }>> {
    const found = await this.until(() => this.frames.findIndex((f, i) => f.type === type && !this.taken.has(i)), timeoutMs, `frame ${type}`);
    this.taken.add(found);
    return this.frames[found] as Extract<ServerFrame, { type: T }>;
  }
  private taken = new Set<number>();

  /** Waits for the socket to close; resolves with the close code. */
  async closed(timeoutMs = 5000): Promise<number> {
    await this.until(() => (this.closeCode === null ? -1 : 0), timeoutMs, 'close');
    return this.closeCode!;
  }

  /** Waits until `done` of a run arrives and returns that run's frames. */
  async run(runId: string, timeoutMs = 10_000): Promise<ServerFrame[]> {
    await this.until(() => this.frames.findIndex((f) => f.type === 'done' && f.runId === runId), timeoutMs, `done of ${runId}`);
    return this.frames.filter((f) => 'runId' in f && f.runId === runId && f.type !== 'ack' && f.type !== 'error');
  }

  private until(probe: () => number, timeoutMs: number, what: string): Promise<number> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const r = probe();
        if (r >= 0) {
          clearTimeout(timer);
          this.waiters = this.waiters.filter((w) => w !== check);
          resolve(r);
          return true;
        }
        return false;
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== check);
        reject(new Error(`timed out waiting for ${what}; got ${JSON.stringify(this.frames.map((f) => f.type))} close=${this.closeCode}`));
      }, timeoutMs);
      if (!check()) this.waiters.push(check);
    });
  }

  private wake(): void {
    for (const w of [...this.waiters]) w();
  }
}
