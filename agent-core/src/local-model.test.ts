import { AIMessage, AIMessageChunk, HumanMessage, ToolMessage, type BaseMessage } from '@langchain/core/messages';
import { tool } from '@langchain/core/tools';
import { z } from 'zod';
import { createLocalModel } from './local-model.js';
import { extractExpression, scriptedAnswer } from './local-script.js';
import { calculatorTool } from './tools/calculator.js';
import { clockTool } from './tools/clock.js';

const remember = tool(() => 'stored', { name: 'remember', description: 'store', schema: z.object({ content: z.string() }) });
const recall = tool(() => 'favourite colour is green', { name: 'recall', description: 'find', schema: z.object({ query: z.string() }) });

async function streamAll(messages: BaseMessage[], tools = [calculatorTool, clockTool], signal?: AbortSignal) {
  const model = createLocalModel({ tokenDelayMs: 0 }).bindTools!(tools);
  const pieces: string[] = [];
  let full: AIMessageChunk | undefined;
  for await (const chunk of await model.stream(messages, { signal })) {
    if (typeof chunk.content === 'string' && chunk.content !== '') pieces.push(chunk.content);
    full = full ? full.concat(chunk) : chunk;
  }
  return { pieces, message: full! };
}

describe('local model', () => {
  it('calls the calculator for arithmetic', async () => {
    const { message, pieces } = await streamAll([new HumanMessage('What is 12*(3+4)?')]);
    expect(pieces).toEqual([]);
    expect(message.tool_calls).toEqual([{ type: 'tool_call', id: 'call_local_1', name: 'calculator', args: { expression: '12*(3+4)' } }]);
    expect(message.response_metadata.model_name).toBe('local');
    expect(message.usage_metadata?.input_tokens).toBeGreaterThan(0);
  });

  it('answers from the tool result, token by token', async () => {
    const { pieces, message } = await streamAll([
      new HumanMessage('What is 12*(3+4)?'),
      new AIMessage({ content: '', tool_calls: [{ id: 'c1', name: 'calculator', args: { expression: '12*(3+4)' } }] }),
      new ToolMessage({ content: '84', tool_call_id: 'c1', name: 'calculator' }),
    ]);
    expect(pieces).toEqual(['12*(3+4)', ' =', ' 84.']);
    expect(message.content).toBe('12*(3+4) = 84.');
    expect(message.tool_calls).toEqual([]);
    expect(message.usage_metadata?.output_tokens).toBeGreaterThan(0);
  });

  it('explains a tool error instead of inventing a result', async () => {
    const { message } = await streamAll([
      new HumanMessage('What is 1/0?'),
      new AIMessage({ content: '', tool_calls: [{ id: 'c1', name: 'calculator', args: { expression: '1/0' } }] }),
      new ToolMessage({ content: 'Error: Division by zero', tool_call_id: 'c1', name: 'calculator', status: 'error' }),
    ]);
    expect(message.content).toBe('Sorry, the calculator tool reported an error: Division by zero.');
  });

  it('calls the clock for time questions, with a named zone', async () => {
    expect((await streamAll([new HumanMessage('What time is it?')])).message.tool_calls?.[0]).toMatchObject({ name: 'clock', args: {} });
    const { message } = await streamAll([new HumanMessage("What's the date today in Asia/Tokyo?")]);
    expect(message.tool_calls?.[0]).toMatchObject({ name: 'clock', args: { timezone: 'Asia/Tokyo' } });
  });

  it('uses remember and recall only when they are bound, with their own argument names', async () => {
    const bound = [calculatorTool, clockTool, remember, recall];
    const stored = await streamAll([new HumanMessage('Remember that my favourite colour is green.')], bound);
    expect(stored.message.tool_calls?.[0]).toMatchObject({ name: 'remember', args: { content: 'my favourite colour is green' } });
    const fact = await streamAll([new HumanMessage('By the way, my favourite colour is green')], bound);
    expect(fact.message.tool_calls?.[0]).toMatchObject({ name: 'remember', args: { content: 'my favourite colour is green' } });
    const asked = await streamAll([new HumanMessage('What is my favourite colour?')], bound);
    expect(asked.message.tool_calls?.[0]).toMatchObject({ name: 'recall', args: { query: 'my favourite colour' } });

    const unbound = await streamAll([new HumanMessage('Remember that my favourite colour is green.')]);
    expect(unbound.message.tool_calls).toEqual([]);
    expect(unbound.message.content).toContain("can't store memories");
  });

  it('answers from a recall result', async () => {
    const { message } = await streamAll(
      [
        new HumanMessage('What is my favourite colour?'),
        new AIMessage({ content: '', tool_calls: [{ id: 'c1', name: 'recall', args: { query: 'my favourite colour' } }] }),
        new ToolMessage({ content: 'favourite colour is green', tool_call_id: 'c1', name: 'recall' }),
      ],
      [recall],
    );
    expect(message.content).toBe('Here is what I remember: favourite colour is green');
  });

  it('gives a scripted answer of configurable length otherwise', async () => {
    const short = await streamAll([new HumanMessage('Hello!')]);
    expect(short.pieces).toHaveLength(36);
    expect(short.message.content).toMatch(/^Hi! I'm the offline local model/);
    const long = await streamAll([new HumanMessage('Give me a long answer please')]);
    expect(long.pieces).toHaveLength(400);
    const model = createLocalModel({ tokenDelayMs: 0, defaultAnswerTokens: 5 });
    expect((await model.invoke([new HumanMessage('hi')])).content).toBe("Hi! I'm the offline local.");
  });

  it('yields to the event loop between tokens even with no delay', async () => {
    let ticks = 0;
    let running = true;
    const ticker = (): void => {
      ticks += 1;
      if (running) setImmediate(ticker);
    };
    setImmediate(ticker);
    const seen: number[] = [];
    const model = createLocalModel({ tokenDelayMs: 0 });
    for await (const chunk of await model.stream([new HumanMessage('hello')])) if (chunk.content !== '') seen.push(ticks);
    running = false;
    expect(seen).toHaveLength(36);
    for (let i = 1; i < seen.length; i += 1) expect(seen[i]).toBeGreaterThan(seen[i - 1]);
  });

  it('stops when the signal fires', async () => {
    const controller = new AbortController();
    const model = createLocalModel({ tokenDelayMs: 1 });
    let received = 0;
    await expect(
      (async () => {
        for await (const chunk of await model.stream([new HumanMessage('a long answer')], { signal: controller.signal })) {
          if (chunk.content !== '') received += 1;
          if (received === 3) controller.abort();
        }
      })(),
    ).rejects.toThrow();
    expect(received).toBe(3);
  });

  it('computes arithmetic itself when no calculator is bound', async () => {
    const model = createLocalModel({ tokenDelayMs: 0 });
    expect((await model.invoke([new HumanMessage('What is 2^8?')])).content).toBe('2^8 = 256.');
    expect((await model.invoke([new HumanMessage('What is 1/0?')])).content).toBe("I can't compute 1/0: Division by zero at position 2.");
  });

  it('works without streaming (invoke)', async () => {
    const model = createLocalModel().bindTools!([calculatorTool]);
    const message = await model.invoke([new HumanMessage('compute 2 + 2 * 10')]);
    expect(message.tool_calls?.[0]).toMatchObject({ name: 'calculator', args: { expression: '2 + 2 * 10' } });
  });
});

describe('extractExpression', () => {
  it.each([
    ['What is 12*(3+4)?', '12*(3+4)'],
    ['calculate (1.5 + 2) / 7 please', '(1.5 + 2) / 7'],
    ['what is sqrt(16) + 2', 'sqrt(16) + 2'],
    ['2^10?', '2^10'],
    ['6 × 7', '6 * 7'],
    ['I have 3 apples', undefined],
    ['hello', undefined],
  ])('%s → %s', (text, expected) => {
    expect(extractExpression(text)).toBe(expected);
  });
});

describe('scriptedAnswer', () => {
  it('has exactly the requested number of words and ends a sentence', () => {
    for (const n of [1, 10, 36, 37, 250]) {
      const text = scriptedAnswer(n);
      expect(text.split(' ')).toHaveLength(n);
      expect(text).toMatch(/[.!?]$/);
    }
  });
});
