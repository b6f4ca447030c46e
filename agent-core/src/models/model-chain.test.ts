/**
 * The model chain against the mock OpenAI server over real HTTP, with the real ChatOpenAI
 * client underneath: streaming, tool calls, retries, Retry-After, fallback, cancellation.
 */
import { AIMessageChunk, HumanMessage, ToolMessage } from '@langchain/core/messages';
import { tool } from '@langchain/core/tools';
import { MessagesAnnotation, StateGraph } from '@langchain/langgraph';
import { createMockOpenAI, type MockOpenAI, type MockRequestRecord } from '@switchboard/mock-llm';
import { z } from 'zod';
import { ModelUnavailableError } from './errors.js';
import type { ModelChainEvent } from './events.js';
import { collect, MODEL_CLIENTS, mockKit } from '../../test/support/model-chain.js';

const calculator = tool(async ({ expression }) => String(expression.length), {
  name: 'calculator',
  description: 'Evaluates arithmetic',
  schema: z.object({ expression: z.string() }),
});

let mock: MockOpenAI;
beforeAll(async () => {
  mock = await createMockOpenAI();
});
afterAll(async () => {
  await mock.close();
});
beforeEach(() => {
  for (const name of ['primary', 'backup', 'third']) mock.setScenario(name, undefined);
  mock.reset();
});

function chatRequests(model: string): MockRequestRecord[] {
  return mock.stats.log.filter((r) => r.route === 'chat' && r.model === model);
}

function merged(chunks: AIMessageChunk[]): AIMessageChunk {
  return chunks.reduce((a, b) => a.concat(b));
}

describe.each(MODEL_CLIENTS)('model chain over the mock server (%s client)', (client) => {
  const { model: mockModel, chain: mockChain } = mockKit(() => mock, client);

  it('streams an answer with the answering model name and provider usage', async () => {
    const chain = mockChain(['primary', 'backup']);
    const { chunks, text, error } = await collect(chain.stream('hello there'));
    expect(error).toBeUndefined();
    expect(text.split(' ').length).toBe(12);
    expect(chunks.length).toBeGreaterThan(5);
    const all = merged(chunks);
    expect(all.response_metadata.model_name).toBe('primary');
    expect(all.usage_metadata?.output_tokens).toBe(12);
    expect(all.usage_metadata?.input_tokens).toBeGreaterThan(0);
    expect(mock.stats.models.primary.outcomes.ok).toBe(1);
    expect(mock.stats.models.backup).toBeUndefined();
    // Same text through a plain invoke (non-streaming call path of the chain).
    const message = await chain.invoke('hello there');
    expect(message.text).toBe(text);
    expect(message.response_metadata.model_name).toBe('primary');
  });

  it('round-trips a tool call and the tool result', async () => {
    const chain = mockChain(['primary']).bindTools([calculator]);
    const first = merged((await collect(chain.stream([new HumanMessage('what is 2 + 3 * 4?')]))).chunks);
    expect(first.tool_calls).toHaveLength(1);
    expect(first.tool_calls?.[0]).toMatchObject({ name: 'calculator', args: { expression: '2 + 3 * 4' } });
    const body = chatRequests('primary')[0].body as { tools: Array<{ function: { name: string } }> };
    expect(body.tools.map((t) => t.function.name)).toEqual(['calculator']);
    const callId = first.tool_calls?.[0].id ?? '';
    const second = await chain.invoke([
      new HumanMessage('what is 2 + 3 * 4?'),
      first,
      new ToolMessage({ content: '14', tool_call_id: callId }),
    ]);
    expect(second.text).toBe('The result is 14.');
  });

  it('streams tokens through a LangGraph node in messages mode, once per token', async () => {
    mock.setScenario('primary', { fault: '500', failFirst: 1 });
    const model = mockChain(['primary', 'backup']).bindTools([calculator]);
    const graph = new StateGraph(MessagesAnnotation)
      .addNode('model', async (state, config) => ({ messages: [await model.invoke(state.messages, config)] }))
      .addEdge('__start__', 'model')
      .compile();
    const pieces: string[] = [];
    let modelName: unknown;
    for await (const [chunk] of await graph.stream({ messages: [new HumanMessage('tell me')] }, { streamMode: 'messages' })) {
      if (chunk.text) pieces.push(chunk.text);
      modelName ??= (chunk.response_metadata as Record<string, unknown> | undefined)?.model_name;
    }
    expect(pieces).toHaveLength(12);
    expect(modelName).toBe('primary');
    expect(chatRequests('primary')).toHaveLength(2);
    const final = (await graph.invoke({ messages: [new HumanMessage('tell me')] })).messages.at(-1);
    expect((final?.response_metadata as Record<string, unknown>).model_name).toBe('primary');
    expect((final as AIMessageChunk).usage_metadata?.output_tokens).toBe(12);
  });

  it('retries on the same model, then succeeds (3 attempts)', async () => {
    mock.setScenario('primary', { fault: '500', failFirst: 2 });
    const events: ModelChainEvent[] = [];
    const chain = mockChain(['primary', 'backup'], { onEvent: (e) => events.push(e) });
    const { error, chunks } = await collect(chain.stream('retry me'));
    expect(error).toBeUndefined();
    expect(merged(chunks).response_metadata.model_name).toBe('primary');
    expect(chatRequests('primary')).toHaveLength(3);
    expect(mock.stats.models.primary.outcomes).toEqual({ '500': 2, ok: 1 });
    expect(events.filter((e) => e.type === 'retry')).toHaveLength(2);
    expect(chain.stats().models[0]).toMatchObject({ calls: 3, failures: 2, retries: 2, fallbacksFrom: 0 });
  });

  it('waits at least Retry-After before retrying a 429', async () => {
    mock.setScenario('primary', { fault: '429', failFirst: 1, retryAfterSec: 0.3 });
    const chain = mockChain(['primary']);
    const { error } = await collect(chain.stream('slow down'));
    expect(error).toBeUndefined();
    const [first, second] = chatRequests('primary');
    expect(first.outcome).toBe('429');
    expect(second.outcome).toBe('ok');
    // Timestamps taken by the mock itself; a small slack for timer granularity.
    expect(second.receivedAt - (first.endedAt ?? first.receivedAt)).toBeGreaterThanOrEqual(290);
  });

  it('falls back to the next model when retries are exhausted, with tools still bound', async () => {
    mock.setScenario('primary', { fault: '503', retryAfterSec: 0 });
    const events: ModelChainEvent[] = [];
    const chain = mockChain(['primary', 'backup'], { onEvent: (e) => events.push(e) });
    const bound = chain.bindTools([calculator]);
    const result = merged((await collect(bound.stream('what is 6 * 7?'))).chunks);
    expect(result.response_metadata.model_name).toBe('backup');
    expect(result.tool_calls?.[0]).toMatchObject({ name: 'calculator', args: { expression: '6 * 7' } });
    expect(chatRequests('primary')).toHaveLength(3);
    const backupBody = chatRequests('backup')[0].body as { tools?: Array<{ function: { name: string } }> };
    expect(backupBody.tools?.map((t) => t.function.name)).toEqual(['calculator']);
    expect(events).toContainEqual({ type: 'fallback', from: 'primary', to: 'backup', reason: 'http' });
    expect(chain.stats()).toMatchObject({ fallbacks: 1, models: [{ name: 'primary', fallbacksFrom: 1 }, { name: 'backup', calls: 1 }] });
  });

  it('does not retry a Retry-After longer than the cap; falls back at once', async () => {
    mock.setScenario('primary', { fault: '429', retryAfterSec: 30 });
    const chain = mockChain(['primary', 'backup']);
    const { error, chunks } = await collect(chain.stream('later'));
    expect(error).toBeUndefined();
    expect(merged(chunks).response_metadata.model_name).toBe('backup');
    expect(chatRequests('primary')).toHaveLength(1);
  });

  it('does not retry or count a 400 against the breaker, but still falls back', async () => {
    // The mock answers 400 to an unknown scenario in the x-mock-scenario header.
    const rejected = mockModel('primary', { breakerThreshold: 1, headers: { 'x-mock-scenario': 'bogus' } });
    const chain = mockChain([rejected, 'backup']);
    for (let i = 0; i < 2; i++) {
      const { error, chunks } = await collect(chain.stream('hi'));
      expect(error).toBeUndefined();
      expect(merged(chunks).response_metadata.model_name).toBe('backup');
    }
    expect(chatRequests('primary').map((r) => r.outcome)).toEqual(['bad_request', 'bad_request']);
    expect(chain.stats().models[0]).toMatchObject({ breaker: 'closed', failures: 2, retries: 0, fallbacksFrom: 2 });
  });

  it('aborting the call disconnects the in-flight HTTP request and stops retries', async () => {
    mock.setScenario('primary', { ttftMs: 5_000 });
    const chain = mockChain(['primary', 'backup']);
    const ctrl = new AbortController();
    const pending = collect(chain.stream('wait for it', { signal: ctrl.signal }));
    await mock.waitFor((s) => s.inFlight === 1);
    ctrl.abort();
    const { error } = await pending;
    expect((error as Error).name).toBe('AbortError');
    await mock.waitFor((s) => s.aborted === 1);
    expect(mock.stats.models.primary.aborted).toBe(1);
    expect(mock.stats.models.backup).toBeUndefined();
    expect(chain.stats().models[0]).toMatchObject({ failures: 0, retries: 0 });
  });

  it('aborting during a backoff returns at once without another attempt', async () => {
    mock.setScenario('primary', { fault: '429', retryAfterSec: 1.5 });
    const chain = mockChain(['primary']);
    const ctrl = new AbortController();
    const pending = collect(chain.stream('backoff', { signal: ctrl.signal }));
    await mock.waitFor((s) => (s.outcomes['429'] ?? 0) === 1);
    ctrl.abort();
    const { error } = await pending;
    expect((error as Error).name).toBe('AbortError');
    await new Promise((r) => setTimeout(r, 50));
    expect(chatRequests('primary')).toHaveLength(1);
    expect(error).not.toBeInstanceOf(ModelUnavailableError);
  });
});
