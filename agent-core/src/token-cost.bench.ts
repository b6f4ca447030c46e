/**
 * CPU cost per model token and per run on the agent side, against the mock OpenAI server in a
 * child process (so only the client side is counted), with paced streams as a real provider
 * sends them. Counts `process.cpuUsage()` (user + system), not wall time.
 *
 * Per token (CONCURRENCY streams × TOKENS tokens at PACE ms): the floors (node:http with a
 * minimal SSE parser, the `openai` SDK, `ChatOpenAI.stream()`), the model chain on its own
 * (`streamAnswer`, both clients) and the whole agent run (loop engine, tools bound, checkpointer)
 * over the chain with each client, and on the lean client with the LangGraph engine
 * (`…/langgraph`). Per run: back-to-back short answers through the agent.
 *
 * Run: npx tsx agent-core/src/token-cost.bench.ts [--rounds 2] [--only name,name] [--json out.json]
 *      [--baseline other-checkout/agent-core/src] (adds agent/baseline and run/agent/baseline)
 * Profile: node --cpu-prof --import tsx agent-core/src/token-cost.bench.ts --only agent/lean --profile marks.json
 * (`--profile` writes each variant's measured window, to cut the profile to it).
 */
import http from 'node:http';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { ChatOpenAI } from '@langchain/openai';
import OpenAI from 'openai';
import { startMockProcess } from '../test/support/mock-process.js';
import { createAgent } from './agent.js';
import { createModelChain } from './models/model-chain.js';
import type { ModelSpec } from './models/model-spec.js';

const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '2' },
    concurrency: { type: 'string', default: '20' },
    tokens: { type: 'string', default: '200' },
    pace: { type: 'string', default: '20' },
    runs: { type: 'string', default: '200' },
    only: { type: 'string' },
    json: { type: 'string' },
    profile: { type: 'string' },
    baseline: { type: 'string' },
  },
});
const ROUNDS = Number(args.rounds);
const CONCURRENCY = Number(args.concurrency);
const TOKENS = Number(args.tokens);
const PACE_MS = Number(args.pace);
const RUNS = Number(args.runs);
const only = args.only?.split(',');

const mock = await startMockProcess({
  paced: { tokensPerSecond: 1000 / PACE_MS, responseTokens: TOKENS },
  short: { responseTokens: 5 },
});
const PROMPT = 'tell me a long story';

function spec(model: string, client: 'lean' | 'langchain'): ModelSpec {
  return { name: model, model, baseURL: mock.url, apiKey: 'k', client } as ModelSpec;
}

const httpAgent = new http.Agent({ keepAlive: true, maxSockets: Infinity });

/** The floor: node:http, split on blank lines, JSON.parse each event, count content deltas. */
function httpFloor(model: string): Promise<number> {
  const body = JSON.stringify({ model, stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: PROMPT }] });
  return new Promise((resolve, reject) => {
    const req = http.request(
      `${mock.url}/chat/completions`,
      { method: 'POST', agent: httpAgent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
      (res) => {
        res.setEncoding('utf8');
        let buffer = '';
        let count = 0;
        res.on('data', (text: string) => {
          buffer += text;
          for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
            const event = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            if (!event.startsWith('data: ') || event === 'data: [DONE]') continue;
            const chunk = JSON.parse(event.slice(6)) as { choices: Array<{ delta?: { content?: string } }> };
            if (chunk.choices[0]?.delta?.content) count++;
          }
        });
        res.on('end', () => resolve(count));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const sdk = new OpenAI({ apiKey: 'k', baseURL: mock.url, maxRetries: 0 });
async function openaiSdk(model: string): Promise<number> {
  let count = 0;
  const stream = await sdk.chat.completions.create({ model, stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: PROMPT }] });
  for await (const chunk of stream) if (chunk.choices[0]?.delta?.content) count++;
  return count;
}

const chatOpenAI = new ChatOpenAI({ model: 'paced', apiKey: 'k', configuration: { baseURL: mock.url }, maxRetries: 0, streaming: true, streamUsage: true });
async function chatOpenAIStream(): Promise<number> {
  let count = 0;
  for await (const chunk of await chatOpenAI.stream(PROMPT)) if (chunk.text) count++;
  return count;
}

const chains = {
  lean: createModelChain({ models: [spec('paced', 'lean'), spec('short', 'lean')] }),
  langchain: createModelChain({ models: [spec('paced', 'langchain'), spec('short', 'langchain')] }),
};
const shortChains = {
  lean: createModelChain({ models: [spec('short', 'lean')] }),
  langchain: createModelChain({ models: [spec('short', 'langchain')] }),
};

type ChainLike = { streamAnswer?: (messages: unknown[], options: { onText(text: string): void }) => Promise<unknown> };
async function chainAnswer(client: 'lean' | 'langchain', from = chains): Promise<number> {
  const chain = from[client] as unknown as ChainLike;
  let count = 0;
  if (!chain.streamAnswer) {
    for await (const chunk of await from[client].stream(PROMPT)) if (chunk.text) count++;
    return count;
  }
  const { HumanMessage } = await import('@langchain/core/messages');
  await chain.streamAnswer([new HumanMessage(PROMPT)], { onText: () => void count++ });
  return count;
}

const agents = {
  lean: createAgent({ model: chains.lean }),
  langchain: createAgent({ model: chains.langchain }),
  leanLangGraph: createAgent({ model: chains.lean, engine: 'langgraph' }),
};
const shortAgents = {
  lean: createAgent({ model: shortChains.lean }),
  langchain: createAgent({ model: shortChains.langchain }),
  leanLangGraph: createAgent({ model: shortChains.lean, engine: 'langgraph' }),
};
let session = 0;
async function agentRun(agent: (typeof agents)['lean']): Promise<number> {
  let count = 0;
  const id = ++session;
  for await (const event of agent.stream({ sessionId: `s${id}`, userId: 'bench', runId: `r${id}`, text: PROMPT })) {
    if (event.type === 'token') count++;
    else if (event.type === 'error') throw new Error(event.message);
  }
  return count;
}

interface Row {
  name: string;
  unit: 'token' | 'run';
  count: number;
  cpuUs: number;
  perUnitUs: number;
}

interface Variant {
  name: string;
  unit: Row['unit'];
  one: () => Promise<number>;
  count: number;
  cpuUs: number;
}

const variants: Variant[] = [];
function variant(name: string, unit: Row['unit'], one: () => Promise<number>): void {
  if (!only || only.includes(name)) variants.push({ name, unit, one, count: 0, cpuUs: 0 });
}

/**
 * With `--profile FILE`, the measured windows of each variant (monotonic µs, the clock of
 * `node --cpu-prof` timestamps) are written there, so that a profile can be cut to them.
 */
const marks: Record<string, Array<[number, number]>> = {};
const nowUs = (): number => Number(process.hrtime.bigint() / 1000n);

function cpuNow(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}

/** One round: CONCURRENCY concurrent streams, or RUNS_PER_ROUND short runs CONCURRENCY at a time. */
async function round(v: Variant, counted: boolean): Promise<void> {
  const started = nowUs();
  const start = cpuNow();
  let count = 0;
  if (v.unit === 'token') {
    const counts = await Promise.all(Array.from({ length: CONCURRENCY }, v.one));
    count = counts.reduce((a, b) => a + b, 0);
  } else {
    let next = 0;
    const runs = Math.max(CONCURRENCY, Math.ceil(RUNS / ROUNDS));
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next++ < runs) await v.one();
      }),
    );
    count = runs;
  }
  if (!counted) return;
  v.cpuUs += cpuNow() - start;
  v.count += count;
  (marks[v.name] ??= []).push([started, nowUs()]);
}

variant('floor/http+sse', 'token', () => httpFloor('paced'));
variant('floor/openai-sdk', 'token', () => openaiSdk('paced'));
variant('floor/ChatOpenAI', 'token', chatOpenAIStream);
variant('chain/langchain', 'token', () => chainAnswer('langchain'));
variant('chain/lean', 'token', () => chainAnswer('lean'));
variant('agent/langchain', 'token', () => agentRun(agents.langchain));
variant('agent/lean', 'token', () => agentRun(agents.lean));
variant('agent/lean/langgraph', 'token', () => agentRun(agents.leanLangGraph));
variant('run/chain/lean', 'run', () => chainAnswer('lean', shortChains));
variant('run/agent/langchain', 'run', () => agentRun(shortAgents.langchain));
variant('run/agent/lean', 'run', () => agentRun(shortAgents.lean));
variant('run/agent/lean/langgraph', 'run', () => agentRun(shortAgents.leanLangGraph));
if (args.baseline) {
  // Another checkout's agent-core/src (e.g. the commit before a change), measured beside ours.
  const base = resolve(args.baseline);
  const { createAgent: baseAgent } = (await import(pathToFileURL(join(base, 'agent.ts')).href)) as { createAgent: typeof createAgent };
  const { createModelChain: baseChain } = (await import(pathToFileURL(join(base, 'models/model-chain.ts')).href)) as {
    createModelChain: typeof createModelChain;
  };
  const paced = baseAgent({ model: baseChain({ models: [spec('paced', 'langchain'), spec('short', 'langchain')] }) });
  const short = baseAgent({ model: baseChain({ models: [spec('short', 'langchain')] }) });
  variant('agent/baseline', 'token', () => agentRun(paced));
  variant('run/agent/baseline', 'run', () => agentRun(short));
}

process.stdout.write(
  `per token: ${CONCURRENCY} concurrent streams × ${TOKENS} tokens at ${PACE_MS} ms; per run: ${RUNS} runs of 5 tokens; ` +
    `${ROUNDS} rounds, variants interleaved\n`,
);
for (const v of variants) await round(v, false); // warm-up
for (let r = 0; r < ROUNDS; r++) for (const v of variants) await round(v, true);

const rows: Row[] = variants.map((v) => ({ name: v.name, unit: v.unit, count: v.count, cpuUs: v.cpuUs, perUnitUs: v.cpuUs / v.count }));
for (const row of rows) {
  const unit = row.unit === 'token' ? 'µs CPU/token' : 'µs CPU/run';
  process.stdout.write(`${row.name.padEnd(22)} ${String(row.count).padStart(6)} ${row.unit}s  ${row.perUnitUs.toFixed(1).padStart(8)} ${unit}\n`);
}
const floor = rows.find((r) => r.name === 'floor/http+sse');
if (floor) {
  for (const row of rows.filter((r) => r.unit === 'token' && r !== floor)) {
    process.stdout.write(`${row.name.padEnd(22)} ${(row.perUnitUs / floor.perUnitUs).toFixed(2)}× the node:http floor\n`);
  }
}
if (args.profile) writeFileSync(args.profile, `${JSON.stringify(marks)}\n`);
if (args.json) writeFileSync(args.json, `${JSON.stringify({ concurrency: CONCURRENCY, tokens: TOKENS, paceMs: PACE_MS, rows }, null, 2)}\n`);
httpAgent.destroy();
await mock.close();
