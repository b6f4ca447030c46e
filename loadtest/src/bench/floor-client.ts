/**
 * A floor of `pnpm bench chat`, in its own process so its CPU is its own: N concurrent streams
 * from the paced mock through one client (node:http with a minimal SSE parser, the `openai` SDK,
 * `ChatOpenAI.stream()`, or a `ws` client of the uWS relay), reporting CPU-seconds and tokens.
 *
 *   node --import tsx loadtest/src/bench/floor-client.ts   (driven over IPC by chat-cost.ts)
 */
import { readDeltas } from './min-sse.js';
import { Agent, request } from 'node:http';
import WebSocket from 'ws';

/** Floors the chat bench measures. */
export type FloorKind = 'node-http' | 'openai-sdk' | 'langchain' | 'uws-relay';

/** The job the parent sends. */
export interface FloorJob {
  type: 'run';
  kind: FloorKind;
  /** The mock's `/v1` base URL. */
  baseURL: string;
  /** Mock model for the measured streams (paced). */
  model: string;
  /** Mock model for the warm-up streams (short, unpaced). */
  warmModel: string;
  /** The relay's WebSocket URL (kind `uws-relay`). */
  relayUrl?: string;
  concurrency: number;
  /** Streams per concurrent slot in the measured window. */
  rounds: number;
}

/** Reports to the parent. */
export type FloorReport =
  | { type: 'measuring' }
  | { type: 'done'; tokens: number; streams: number; cpuSeconds: number; wallMs: number }
  | { type: 'failed'; reason: string };

const send = (m: FloorReport) => process.send?.(m);
const cpuNow = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

/** One stream: resolves with the number of content tokens received. */
type StreamFn = (model: string) => Promise<number>;

function nodeHttp(baseURL: string): StreamFn {
  const agent = new Agent({ keepAlive: true, maxSockets: 1024 });
  const url = new URL(`${baseURL.replace(/\/$/, '')}/chat/completions`);
  return (model) =>
    new Promise((resolve, reject) => {
      const body = JSON.stringify({ model, stream: true, messages: [{ role: 'user', content: 'stream the floor answer' }] });
      const req = request(
        url,
        { method: 'POST', agent, headers: { 'content-type': 'application/json', authorization: 'Bearer x', 'content-length': Buffer.byteLength(body) } },
        (res) => {
          if (res.statusCode !== 200) return reject(new Error(`mock answered ${res.statusCode}`));
          res.setEncoding('utf8');
          let tokens = 0;
          res.on('data', readDeltas(() => tokens++));
          res.on('end', () => resolve(tokens));
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(body);
    });
}

async function openaiSdk(baseURL: string): Promise<StreamFn> {
  const { default: OpenAI } = await import('openai');
  const client = new OpenAI({ baseURL, apiKey: 'x', maxRetries: 0 });
  return async (model) => {
    let tokens = 0;
    const stream = await client.chat.completions.create({ model, stream: true, messages: [{ role: 'user', content: 'stream the floor answer' }] });
    for await (const chunk of stream) if (chunk.choices[0]?.delta?.content) tokens++;
    return tokens;
  };
}

async function langchain(baseURL: string): Promise<StreamFn> {
  const { ChatOpenAI } = await import('@langchain/openai');
  const models = new Map<string, InstanceType<typeof ChatOpenAI>>();
  return async (model) => {
    let m = models.get(model);
    if (!m) models.set(model, (m = new ChatOpenAI({ model, apiKey: 'x', configuration: { baseURL }, maxRetries: 0 })));
    let tokens = 0;
    for await (const chunk of await m.stream('stream the floor answer')) if (typeof chunk.content === 'string' && chunk.content) tokens++;
    return tokens;
  };
}

/** One socket per concurrent slot; each stream is `{"model":…}` → token frames → `done`. */
async function uwsRelay(relayUrl: string, concurrency: number): Promise<() => StreamFn> {
  const sockets = await Promise.all(
    Array.from(
      { length: concurrency },
      () =>
        new Promise<WebSocket>((resolve, reject) => {
          const ws = new WebSocket(relayUrl, { perMessageDeflate: false });
          ws.once('open', () => resolve(ws));
          ws.once('error', reject);
        }),
    ),
  );
  let next = 0;
  return () => {
    const ws = sockets[next++ % sockets.length]!;
    return (model) =>
      new Promise((resolve, reject) => {
        let tokens = 0;
        const onMessage = (data: WebSocket.RawData) => {
          const text = data.toString();
          if (text.startsWith('{"type":"token"')) tokens++;
          else if (text.startsWith('{"type":"done"')) finish(null);
          else if (text.startsWith('{"type":"error"')) finish(new Error(text));
        };
        const onClose = () => finish(new Error('relay closed the socket'));
        const finish = (e: Error | null) => {
          ws.off('message', onMessage);
          ws.off('close', onClose);
          if (e) reject(e);
          else resolve(tokens);
        };
        ws.on('message', onMessage);
        ws.on('close', onClose);
        ws.send(JSON.stringify({ model }));
      });
  };
}

async function run(job: FloorJob): Promise<void> {
  let perSlot: () => StreamFn;
  if (job.kind === 'uws-relay') {
    if (!job.relayUrl) throw new Error('uws-relay needs relayUrl');
    perSlot = await uwsRelay(job.relayUrl, job.concurrency);
  } else {
    const fn = job.kind === 'node-http' ? nodeHttp(job.baseURL) : job.kind === 'openai-sdk' ? await openaiSdk(job.baseURL) : await langchain(job.baseURL);
    perSlot = () => fn;
  }
  const slots = Array.from({ length: job.concurrency }, () => perSlot());
  // Warm-up: connections, JIT and lazy imports, unmeasured.
  for (let i = 0; i < 3; i++) await Promise.all(slots.map((s) => s(job.warmModel)));
  send({ type: 'measuring' });
  const cpu0 = cpuNow();
  const t0 = performance.now();
  const counts = await Promise.all(
    slots.map(async (s) => {
      let n = 0;
      for (let r = 0; r < job.rounds; r++) n += await s(job.model);
      return n;
    }),
  );
  const cpuSeconds = cpuNow() - cpu0;
  send({ type: 'done', tokens: counts.reduce((a, b) => a + b, 0), streams: job.concurrency * job.rounds, cpuSeconds, wallMs: performance.now() - t0 });
}

process.on('message', (m: FloorJob) => {
  if (m.type !== 'run') return;
  run(m).then(
    () => setTimeout(() => process.exit(0), 50),
    (e: Error) => {
      send({ type: 'failed', reason: e.message });
      setTimeout(() => process.exit(1), 50);
    },
  );
});
process.on('disconnect', () => process.exit(0));
