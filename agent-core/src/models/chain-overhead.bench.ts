/**
 * Measures what the model chain adds on top of a plain ChatOpenAI stream against the mock
 * server (same process, loopback): time to first token, full stream time and CPU per call.
 * A program, not a test: `npx tsx agent-core/src/models/chain-overhead.bench.ts [calls]`.
 */
import type { AIMessageChunk } from '@langchain/core/messages';
import { ChatOpenAI } from '@langchain/openai';
import { createMockOpenAI } from '@switchboard/mock-llm';
import { createModelChain } from './model-chain.js';

interface Sample {
  ttftMs: number;
  totalMs: number;
}

async function measure(stream: () => Promise<AsyncIterable<AIMessageChunk>>): Promise<Sample> {
  const start = performance.now();
  let ttftMs = -1;
  for await (const chunk of await stream()) {
    if (ttftMs < 0 && chunk.text.length > 0) ttftMs = performance.now() - start;
  }
  return { ttftMs, totalMs: performance.now() - start };
}

function pct(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function main(): Promise<void> {
  const calls = Number(process.argv[2] ?? 300);
  const mock = await createMockOpenAI({ defaultScenario: { responseTokens: 20 } });
  const direct = new ChatOpenAI({ model: 'bench', apiKey: 'k', configuration: { baseURL: mock.url }, maxRetries: 0, streaming: true });
  const chain = createModelChain({ models: [{ name: 'bench', model: 'bench', baseURL: mock.url, apiKey: 'k' }, { name: 'backup', model: 'backup', baseURL: mock.url }] });
  const runs = { direct: [] as Sample[], chain: [] as Sample[] };
  const cpu = { direct: 0, chain: 0 };
  const warmup = 30;
  for (let i = 0; i < calls + warmup; i++) {
    // Alternate to spread drift (GC, JIT) evenly over both.
    for (const kind of (i % 2 ? ['direct', 'chain'] : ['chain', 'direct']) as Array<'direct' | 'chain'>) {
      const before = process.cpuUsage();
      const sample = await measure(() => (kind === 'direct' ? direct.stream('hello') : chain.stream('hello')));
      const used = process.cpuUsage(before);
      if (i >= warmup) {
        runs[kind].push(sample);
        cpu[kind] += (used.user + used.system) / 1000;
      }
    }
  }
  await mock.close();
  const row = (kind: 'direct' | 'chain'): string => {
    const t = runs[kind].map((s) => s.ttftMs);
    const total = runs[kind].map((s) => s.totalMs);
    return `${kind.padEnd(7)} ttft p50 ${pct(t, 50).toFixed(3)} ms  p95 ${pct(t, 95).toFixed(3)} ms  stream p50 ${pct(total, 50).toFixed(3)} ms  cpu/call ${(cpu[kind] / calls).toFixed(3)} ms (mock included)`;
  };
  process.stdout.write(`${calls} sequential calls each, 20-token answers, mock in-process on loopback\n`);
  process.stdout.write(`${row('direct')}\n${row('chain')}\n`);
  const d = (f: (s: Sample) => number, p: number): string =>
    (pct(runs.chain.map(f), p) - pct(runs.direct.map(f), p)).toFixed(3);
  process.stdout.write(`chain overhead: ttft p50 +${d((s) => s.ttftMs, 50)} ms, p95 +${d((s) => s.ttftMs, 95)} ms; ` +
    `cpu/call +${((cpu.chain - cpu.direct) / calls).toFixed(3)} ms\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${String(err)}\n`);
  process.exit(1);
});
