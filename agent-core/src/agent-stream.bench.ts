/**
 * Per-token CPU cost of `agent.stream()` (tools bound, checkpointer; engine from AGENT_ENGINE,
 * default loop) against the same offline model's own `model.stream()` as the baseline, with
 * concurrent runs and zero token delay.
 * Run: [AGENT_ENGINE=langgraph] npx tsx agent-core/src/agent-stream.bench.ts [runs] [tokensPerRun]
 */
import { HumanMessage } from '@langchain/core/messages';
import { createAgent } from './agent.js';
import { createLocalModel } from './local-model.js';

const runs = Number(process.argv[2] ?? 20);
const tokens = Number(process.argv[3] ?? 1000);
const model = createLocalModel({ tokenDelayMs: 0, longAnswerTokens: tokens });
const agent = createAgent({ model, engine: process.env.AGENT_ENGINE === 'langgraph' ? 'langgraph' : 'loop' });
let session = 0;

async function baseline(): Promise<number> {
  let count = 0;
  await Promise.all(
    Array.from({ length: runs }, async () => {
      for await (const chunk of await model.stream([new HumanMessage('a long answer')])) if (chunk.content !== '') count += 1;
    }),
  );
  return count;
}

async function throughAgent(): Promise<number> {
  let count = 0;
  await Promise.all(
    Array.from({ length: runs }, async () => {
      const input = { sessionId: `bench-${++session}`, userId: 'bench', runId: `run-${session}`, text: 'a long answer' };
      for await (const event of agent.stream(input)) if (event.type === 'token') count += 1;
    }),
  );
  return count;
}

async function measure(name: string, fn: () => Promise<number>): Promise<number> {
  await fn(); // warm-up
  const cpu = process.cpuUsage();
  const start = performance.now();
  const count = await fn();
  const used = process.cpuUsage(cpu);
  const wallMs = performance.now() - start;
  const perToken = (used.user + used.system) / count;
  console.log(`${name.padEnd(14)} ${count} tokens  ${perToken.toFixed(1)} µs CPU/token  ${Math.round((count / wallMs) * 1000)} tokens/s`);
  return perToken;
}

const base = await measure('model.stream', baseline);
const full = await measure('agent.stream', throughAgent);
console.log(`ratio agent/model: ${(full / base).toFixed(2)}x (${runs} concurrent runs × ${tokens} tokens)`);
