/**
 * `ModelChain.streamAnswer` (the agent's path: no LangChain chunks or callbacks) against the
 * mock server over real HTTP, once per client: text, tool calls assembled from streamed
 * argument fragments, usage, request fields, and cancellation aborting the HTTP request.
 */
import { HumanMessage } from '@langchain/core/messages';
import { createMockOpenAI, type MockOpenAI } from '@switchboard/mock-llm';
import { ModelUnavailableError } from './errors.js';
import { MODEL_CLIENTS, mockKit } from '../../test/support/model-chain.js';

const calculator = {
  type: 'function' as const,
  function: {
    name: 'calculator',
    description: 'arithmetic',
    parameters: { type: 'object', properties: { expression: { type: 'string' } }, required: ['expression'] },
  },
};

let mock: MockOpenAI;
beforeAll(async () => {
  mock = await createMockOpenAI();
});
afterAll(async () => {
  await mock.close();
});
beforeEach(() => {
  mock.setScenario('primary', undefined);
  mock.reset();
});

describe.each(MODEL_CLIENTS)('ModelChain#streamAnswer (%s client)', (client) => {
  const { model, chain } = mockKit(() => mock, client);

  it('hands on each text piece and assembles the answer once, with provider usage', async () => {
    const pieces: string[] = [];
    const answer = await chain(['primary']).streamAnswer([new HumanMessage('hello there')], { onText: (t) => pieces.push(t) });
    expect(pieces).toHaveLength(12);
    expect(answer).toMatchObject({ text: pieces.join(''), toolCalls: [], model: 'primary', finishReason: 'stop' });
    expect(answer.usage?.outputTokens).toBe(12);
    expect(answer.usage?.inputTokens).toBeGreaterThan(0);
  });

  it('names the model that answers through onStart, once and before its first piece', async () => {
    mock.setScenario('primary', { fault: '500' });
    const seen: string[] = [];
    const answer = await chain(['primary', 'backup']).streamAnswer([new HumanMessage('hello there')], {
      onStart: (m) => seen.push(`start:${m}`),
      onText: () => {
        if (seen.at(-1) !== 'text') seen.push('text');
      },
    });
    expect(seen).toEqual(['start:backup', 'text']);
    expect(answer.model).toBe('backup');
  });

  it('assembles a tool call from its streamed argument fragments', async () => {
    const pieces: string[] = [];
    const answer = await chain(['primary']).streamAnswer([new HumanMessage('what is 2 + 3 * 4?')], {
      tools: [calculator],
      onText: (t) => pieces.push(t),
    });
    expect(pieces).toEqual([]);
    expect(answer.toolCalls).toHaveLength(1);
    expect(answer.toolCalls[0]).toMatchObject({ name: 'calculator', id: expect.stringMatching(/^call_/) });
    expect(JSON.parse(answer.toolCalls[0].args)).toEqual({ expression: '2 + 3 * 4' });
    expect(answer.finishReason).toBe('tool_calls');
    const body = mock.stats.log[0].body as { tools: Array<{ function: { name: string } }> };
    expect(body.tools.map((t) => t.function.name)).toEqual(['calculator']);
  });

  it('sends the model, temperature, token cap, usage request, API key and extra headers', async () => {
    const spec = model('primary', { temperature: 0.3, maxTokens: 77, apiKey: 'sk-test', headers: { 'x-tenant': 'blue' } });
    await chain([spec]).streamAnswer([new HumanMessage('hi')]);
    const [record] = mock.stats.log;
    expect(record.body).toMatchObject({ model: 'primary', stream: true, stream_options: { include_usage: true }, temperature: 0.3 });
    const body = record.body as { max_tokens?: number; max_completion_tokens?: number };
    expect(body.max_tokens ?? body.max_completion_tokens).toBe(77);
    expect(record.headers.authorization).toBe('Bearer sk-test');
    expect(record.headers['x-tenant']).toBe('blue');
  });

  it('aborting the signal disconnects the HTTP request and rejects with the abort reason', async () => {
    mock.setScenario('primary', { tokensPerSecond: 20, responseTokens: 50 });
    const ctrl = new AbortController();
    const pieces: string[] = [];
    const pending = chain(['primary']).streamAnswer([new HumanMessage('go on')], {
      signal: ctrl.signal,
      onText: (t) => {
        pieces.push(t);
        if (pieces.length === 3) ctrl.abort();
      },
    });
    const error = await pending.catch((e: unknown) => e);
    expect((error as Error).name).toBe('AbortError');
    expect(error).not.toBeInstanceOf(ModelUnavailableError);
    await mock.waitFor((s) => s.aborted === 1);
    expect(pieces).toHaveLength(3);
  });

  it('a rate-limited model reports its Retry-After through ModelUnavailableError', async () => {
    mock.setScenario('primary', { fault: '429', retryAfterSec: 40 });
    const error = await chain(['primary']).streamAnswer([new HumanMessage('x')]).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'model_unavailable', afterFirstToken: false, retryAfterMs: 40_000 });
    expect((error as ModelUnavailableError).failures[0]).toMatchObject({ kind: 'http', status: 429 });
  });
});
