import type { AgentEvent, ModelSpec } from '@switchboard/agent-core';
import { describe, expect, it } from 'vitest';
import { createMemoryCacheStore, createMemorySpendCounters } from '../backends/memory/cost-state.js';
import { createLogger } from '../logger.js';
import { NO_INSTRUMENTATION, type AgentRunner, type Storage } from '../ports.js';
import { createCostControl } from './cost-control.js';
import { PriceBook } from './prices.js';

const model: ModelSpec = { name: 'm', model: 'm', baseURL: 'http://127.0.0.1:1', apiKey: 'x', inputPricePer1k: 0, outputPricePer1k: 1 } as ModelSpec;

/** A scripted agent that records how far it was read and whether its stream was closed. */
function scriptedAgent(tokens: number) {
  const seen = { pulled: 0, closed: false, runs: 0 };
  const runner: AgentRunner = {
    async *stream() {
      seen.runs++;
      try {
        yield { type: 'model-start', model: 'm' } as AgentEvent;
        for (let i = 0; i < tokens; i++) {
          seen.pulled++;
          yield { type: 'token', text: 'abcd' };
        }
        yield { type: 'done', reason: 'stop', model: 'm', usage: { inputTokens: 10, outputTokens: tokens } };
      } finally {
        seen.closed = true;
      }
    },
  };
  return { runner, seen };
}

function control(agent: AgentRunner, options: { userUsd?: number; cache?: boolean } = {}) {
  const counters = createMemorySpendCounters({ userTotal: async () => 0, globalTotal: async () => 0 });
  const rows: unknown[] = [];
  const spend = { add: async (row: unknown) => void rows.push(row) } as unknown as Storage['spend'];
  const costs = createCostControl({
    agent,
    models: ['m'],
    prices: new PriceBook([model]),
    history: async () => ({ depth: 0, recent: '' }),
    counters,
    spend,
    limits: { userUsd: options.userUsd ?? 0, globalUsd: 0 },
    answerCache: options.cache ? { store: createMemoryCacheStore(), ttlMs: 60_000, promptVersion: 'v' } : undefined,
    events: NO_INSTRUMENTATION,
    logger: createLogger({ level: 'error', env: 'test', silent: true }),
  });
  return { costs, counters, rows };
}

const input = (signal = new AbortController().signal) => ({ sessionId: 's', userId: 'u', runId: 'r', text: 'hello there', signal });

async function collect(events: AsyncIterable<AgentEvent>): Promise<AgentEvent[]> {
  const out: AgentEvent[] = [];
  for await (const e of events) out.push(e);
  return out;
}

describe('cost control#stream', () => {
  it('passes the agent events on without model-start, ends with a priced done and charges the run once', async () => {
    const { runner, seen } = scriptedAgent(3);
    const { costs, counters, rows } = control(runner);
    const events = await collect(costs.runner.stream(input()));
    expect(events.map((e) => e.type)).toEqual(['token', 'token', 'token', 'done']);
    const done = events.at(-1) as Extract<AgentEvent, { type: 'done' }>;
    expect(done.usage).toEqual({ inputTokens: 10, outputTokens: 3, costUsd: 0.003 });
    expect(seen.closed).toBe(true);
    expect((await counters.get('u', new Date().toISOString().slice(0, 10))).user).toBe(3_000_000);
    expect(rows).toHaveLength(1);
  });

  it('cuts a run that crosses the spend limit: the token that crossed it, then an error and done{length}, with the agent stream closed', async () => {
    const { runner, seen } = scriptedAgent(1000);
    // 1 USD per 1k output tokens, 4 chars a token: the limit is crossed at the 5th token.
    const { costs, rows } = control(runner, { userUsd: 0.005 });
    const events = await collect(costs.runner.stream(input()));
    expect(events.map((e) => e.type)).toEqual(['token', 'token', 'token', 'token', 'token', 'error', 'done']);
    expect(events[5]).toMatchObject({ type: 'error', code: 'quota_exceeded', retryable: false });
    expect(events[6]).toMatchObject({ type: 'done', reason: 'length', usage: { outputTokens: 5 } });
    expect(seen.pulled).toBe(5);
    expect(seen.closed).toBe(true);
    expect(rows).toHaveLength(1);
  });

  it('closes the agent stream when the consumer leaves early, and charges nothing', async () => {
    const { runner, seen } = scriptedAgent(100);
    const { costs, rows } = control(runner);
    let n = 0;
    for await (const _ of costs.runner.stream(input())) if (++n === 2) break;
    expect(seen.closed).toBe(true);
    expect(seen.pulled).toBe(2);
    expect(rows).toHaveLength(0);
  });

  it('answers a repeat from the answer cache with the same frames, at cost 0, without the agent', async () => {
    const { runner, seen } = scriptedAgent(3);
    const { costs } = control(runner, { cache: true });
    const first = await collect(costs.runner.stream(input()));
    const second = await collect(costs.runner.stream(input()));
    expect(seen.runs).toBe(1);
    expect(second.filter((e) => e.type === 'token').map((e) => (e as { text: string }).text).join('')).toBe('abcdabcdabcd');
    expect(second.at(-1)).toMatchObject({ type: 'done', reason: 'stop', usage: { costUsd: 0, cached: true } });
    expect(first.at(-1)).toMatchObject({ type: 'done', usage: { costUsd: 0.003 } });
  });

  it('passes an agent failure on to the consumer', async () => {
    const runner: AgentRunner = {
      async *stream() {
        yield { type: 'token', text: 'a' };
        throw new Error('agent broke');
      },
    };
    const { costs } = control(runner);
    await expect(collect(costs.runner.stream(input()))).rejects.toThrow('agent broke');
  });
});
