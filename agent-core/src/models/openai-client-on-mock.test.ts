/**
 * The real `@langchain/openai` clients against the mock OpenAI server, without the chain:
 * proves the mock speaks the wire format the SDK expects.
 */
import { AIMessageChunk, HumanMessage } from '@langchain/core/messages';
import { ChatOpenAI, OpenAIEmbeddings } from '@langchain/openai';
import { createMockOpenAI, type MockOpenAI } from '@switchboard/mock-llm';

let mock: MockOpenAI;
beforeAll(async () => {
  mock = await createMockOpenAI({ scenarios: { paced: { ttftMs: 20, tokensPerSecond: 500 } } });
});
afterAll(async () => {
  await mock.close();
});

const chat = (model: string, streaming = false): ChatOpenAI =>
  new ChatOpenAI({ model, apiKey: 'k', configuration: { baseURL: mock.url }, maxRetries: 0, streaming });

const calculatorTool = {
  type: 'function' as const,
  function: {
    name: 'calculator',
    description: 'arithmetic',
    parameters: { type: 'object', properties: { expression: { type: 'string' } }, required: ['expression'] },
  },
};

describe('ChatOpenAI and OpenAIEmbeddings on the mock server', () => {
  it('non-streaming: text with usage', async () => {
    const message = await chat('mock-gpt').invoke('hello');
    expect(message.text.split(' ')).toHaveLength(12);
    expect(message.usage_metadata).toMatchObject({ output_tokens: 12 });
  });

  it('streaming: tokens, then a usage chunk', async () => {
    const chunks: AIMessageChunk[] = [];
    for await (const chunk of await chat('paced', true).stream('hello')) chunks.push(chunk);
    const all = chunks.reduce((a, b) => a.concat(b));
    expect(chunks.filter((c) => c.text.length > 0)).toHaveLength(12);
    expect(all.usage_metadata?.output_tokens).toBe(12);
    expect(mock.stats.models.paced.outcomes.ok).toBe(1);
    const request = mock.stats.log.find((r) => r.model === 'paced');
    expect(request?.body).toMatchObject({ stream: true, stream_options: { include_usage: true } });
  });

  it('tool calls, streaming and not', async () => {
    const question = [new HumanMessage('compute 12 / 4 + 1 please')];
    const direct = await chat('mock-gpt').bindTools([calculatorTool]).invoke(question);
    expect(direct.tool_calls).toEqual([
      expect.objectContaining({ name: 'calculator', args: { expression: '12 / 4 + 1' } }),
    ]);
    const chunks: AIMessageChunk[] = [];
    for await (const c of await chat('mock-gpt', true).bindTools([calculatorTool]).stream(question)) chunks.push(c);
    const streamed = chunks.reduce((a, b) => a.concat(b));
    expect(streamed.tool_calls?.[0]).toMatchObject({ name: 'calculator', args: { expression: '12 / 4 + 1' }, id: direct.tool_calls?.[0].id });
    expect(streamed.response_metadata.finish_reason).toBe('tool_calls');
  });

  it('a 429 surfaces with its status and Retry-After header', async () => {
    mock.setScenario('limited', { fault: '429', retryAfterSec: 7 });
    const error = await chat('limited').invoke('x').catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 429 });
    expect((error as { headers: Headers }).headers.get('retry-after')).toBe('7');
  });

  it('embeddings: deterministic, normalised, honouring dimensions (base64 transport)', async () => {
    const embeddings = new OpenAIEmbeddings({ model: 'text-embedding-mock', apiKey: 'k', configuration: { baseURL: mock.url }, maxRetries: 0 });
    const [a, b, c] = await embeddings.embedDocuments(['the cat sat', 'the cat sat', 'stock prices fell']);
    expect(a).toHaveLength(256);
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
    expect(Math.hypot(...a)).toBeCloseTo(1, 5);
    const small = new OpenAIEmbeddings({ model: 'text-embedding-mock', apiKey: 'k', dimensions: 32, configuration: { baseURL: mock.url } });
    expect(await small.embedQuery('hello world')).toHaveLength(32);
  });
});
