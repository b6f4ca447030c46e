/**
 * A mock OpenAI-compatible HTTP server (node:http only) with scripted latency and injected
 * faults, for tests and load runs that drive the real OpenAI client over real HTTP.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { handleChat } from './chat.js';
import { contentText, float32ToBase64, hashEmbedding } from './content.js';
import { applyUpfrontFault, finish, pause, sendError, sendJson, type Exchange } from './exchange.js';
import {
  MockScenarioError,
  parseScenarioSpec,
  resolveScenario,
  type MockFault,
  type MockScenario,
} from './scenario.js';
import { MockStatsRecorder, type MockRoute, type MockStatsSnapshot } from './stats.js';

export interface MockOpenAIOptions {
  /** Port to listen on; 0 picks a free one. @default 0 */
  port?: number;
  /** Interface to bind. @default '127.0.0.1' */
  host?: string;
  /** Scenario per model name (the request's `model` field). */
  scenarios?: Record<string, MockScenario>;
  /** Scenario for models without their own. @default {} (fast, no faults) */
  defaultScenario?: MockScenario;
  /** Embedding size when the request has no `dimensions`. @default 256 */
  embeddingDims?: number;
  /** How many requests the stats log keeps. @default 1000 */
  logLimit?: number;
  /** Honour the `x-mock-scenario` request header (JSON, `k=v,k=v` or a fault name). @default true */
  headerScenarios?: boolean;
}

export interface MockOpenAI {
  /** Base URL including `/v1`, e.g. `http://127.0.0.1:41234/v1`. */
  readonly url: string;
  readonly port: number;
  /** Live counters since start or the last `reset()`. */
  readonly stats: MockStatsSnapshot;
  /** Clears counters, the log and every `failFirst` count. */
  reset(): void;
  /** Sets (or with `undefined`, removes) the scenario of a model; restarts its `failFirst` count. */
  setScenario(model: string, scenario: MockScenario | undefined): void;
  /** Replaces the default scenario. */
  setDefaultScenario(scenario: MockScenario): void;
  /** The configured scenarios, for printing. */
  scenarios(): { default: MockScenario; models: Record<string, MockScenario> };
  /** Resolves when `check(stats)` holds (re-checked on every change). @default timeoutMs 5000 */
  waitFor(check: (stats: MockStatsSnapshot) => boolean, timeoutMs?: number): Promise<void>;
  /** Stops listening and drops open connections (hanging requests included). */
  close(): Promise<void>;
}

const defaults = {
  port: 0,
  host: '127.0.0.1',
  embeddingDims: 256,
  logLimit: 1000,
  headerScenarios: true,
} satisfies Omit<Required<MockOpenAIOptions>, 'scenarios' | 'defaultScenario'>;

const MAX_BODY_BYTES = 8 * 1024 * 1024;
const HEADER = 'x-mock-scenario';

function routeOf(method: string | undefined, path: string): MockRoute | 'unknown' {
  if (method === 'POST' && path === '/v1/chat/completions') return 'chat';
  if (method === 'POST' && path === '/v1/embeddings') return 'embeddings';
  if (method === 'GET' && path === '/v1/models') return 'models';
  return 'unknown';
}

function readBody(req: IncomingMessage): Promise<string | undefined> {
  return new Promise((resolve) => {
    const parts: Buffer[] = [];
    let size = 0;
    req.on('data', (part: Buffer) => {
      size += part.length;
      if (size <= MAX_BODY_BYTES) parts.push(part);
    });
    req.on('end', () => resolve(size > MAX_BODY_BYTES ? undefined : Buffer.concat(parts).toString('utf8')));
    req.on('error', () => resolve(undefined));
  });
}

/**
 * Starts the mock server.
 * @example
 * const mock = await createMockOpenAI({ scenarios: { primary: { fault: '429', failFirst: 2 } } });
 * const model = new ChatOpenAI({ model: 'primary', configuration: { baseURL: mock.url }, apiKey: 'x' });
 */
export async function createMockOpenAI(options: MockOpenAIOptions = {}): Promise<MockOpenAI> {
  const opts = { ...defaults, ...options };
  const models = new Map<string, MockScenario>(Object.entries(options.scenarios ?? {}));
  let defaultScenario: MockScenario = options.defaultScenario ?? {};
  /** How many requests a `failFirst` fault has been applied to, per scenario key. */
  const faulted = new Map<string, number>();
  const recorder = new MockStatsRecorder(opts.logLimit);

  function effectiveFault(key: string, fault: MockFault, failFirst: number | undefined): MockFault {
    if (fault === 'none' || failFirst === undefined) return fault;
    const n = faulted.get(key) ?? 0;
    if (n >= failFirst) return 'none';
    faulted.set(key, n + 1);
    return fault;
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    const route = routeOf(req.method, path);
    const text = req.method === 'POST' ? await readBody(req) : undefined;
    let body: unknown;
    let bodyError: string | undefined;
    if (text === undefined && req.method === 'POST') bodyError = 'request body too large';
    else if (text) {
      try {
        body = JSON.parse(text) as unknown;
      } catch {
        bodyError = 'request body is not valid JSON';
      }
    }
    const b = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
    const model = typeof b.model === 'string' ? b.model : '';
    const record = recorder.begin({
      route: route === 'unknown' ? 'other' : route,
      model,
      stream: b.stream === true,
      receivedAt: performance.now(),
      body,
      headers: req.headers,
    });
    const ctrl = new AbortController();
    const ex: Exchange = {
      req,
      res,
      record,
      scenario: resolveScenario(),
      fault: 'none',
      signal: ctrl.signal,
      stats: recorder,
    };
    res.on('close', () => {
      if (record.outcome === undefined) recorder.end(record, ex.hanging ? 'hang' : 'aborted', true);
      ctrl.abort();
    });
    if (route === 'unknown') return sendError(ex, 404, `no route ${req.method} ${path}`, 'not_found');
    if (bodyError) return sendError(ex, 400, bodyError, 'bad_request');

    const headerValue = opts.headerScenarios ? req.headers[HEADER] : undefined;
    let headerScenario: MockScenario | undefined;
    if (typeof headerValue === 'string' && headerValue.trim()) {
      try {
        headerScenario = parseScenarioSpec(headerValue, HEADER);
      } catch (err) {
        return sendError(ex, 400, (err as MockScenarioError).message, 'bad_request');
      }
    }
    ex.scenario = resolveScenario(defaultScenario, models.get(model), headerScenario);
    const key = headerScenario ? `header:${model}:${headerValue as string}` : `model:${model}`;
    ex.fault = effectiveFault(key, ex.scenario.fault, ex.scenario.failFirst);

    if (route === 'models') {
      const ids = new Set(['mock-gpt', 'text-embedding-mock', ...models.keys()]);
      return sendJson(
        ex,
        200,
        { object: 'list', data: [...ids].map((id) => ({ id, object: 'model', created: 0, owned_by: 'mock' })) },
        'ok',
      );
    }
    if (route === 'chat') return handleChat(ex, body);
    return handleEmbeddings(ex, b);
  }

  async function handleEmbeddings(ex: Exchange, b: Record<string, unknown>): Promise<void> {
    const input = b.input;
    const inputs = typeof input === 'string' ? [input] : Array.isArray(input) ? input : undefined;
    if (!inputs || inputs.length === 0) return sendError(ex, 400, "'input' must be a string or a non-empty array", 'bad_request');
    const dims = b.dimensions === undefined ? opts.embeddingDims : Number(b.dimensions);
    if (!Number.isInteger(dims) || dims < 1 || dims > 8192) {
      return sendError(ex, 400, "'dimensions' must be an integer from 1 to 8192", 'bad_request');
    }
    if (applyUpfrontFault(ex, false)) return;
    if (!(await pause(ex, ex.scenario.ttftMs))) return;
    if (ex.fault === 'malformed') {
      finish(ex, 'malformed');
      ex.res.writeHead(200, { 'content-type': 'application/json' });
      ex.res.end('{"object": "list", "data": [');
      return;
    }
    const base64 = b.encoding_format === 'base64';
    let tokens = 0;
    const data = inputs.map((item, index) => {
      const text = Array.isArray(item) ? item.join(' ') : contentText(item);
      tokens += Math.max(1, Math.ceil(text.length / 4));
      const vector = hashEmbedding(text, dims);
      return { object: 'embedding', index, embedding: base64 ? float32ToBase64(vector) : Array.from(vector) };
    });
    sendJson(ex, 200, { object: 'list', data, model: b.model, usage: { prompt_tokens: tokens, total_tokens: tokens } }, 'ok');
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { message: `mock failure: ${String(err)}`, type: 'server_error' } }));
      } else res.destroy();
    });
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const hostForUrl = opts.host.includes(':') ? `[${opts.host}]` : opts.host;

  return {
    url: `http://${hostForUrl}:${port}/v1`,
    port,
    get stats() {
      return recorder.current;
    },
    reset() {
      faulted.clear();
      recorder.reset();
    },
    setScenario(model, scenario) {
      if (scenario === undefined) models.delete(model);
      else models.set(model, scenario);
      faulted.delete(`model:${model}`);
    },
    setDefaultScenario(scenario) {
      defaultScenario = scenario;
    },
    scenarios() {
      return { default: defaultScenario, models: Object.fromEntries(models) };
    },
    waitFor(check, timeoutMs = 5_000) {
      return recorder.waitFor(check, timeoutMs);
    },
    close() {
      return new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
