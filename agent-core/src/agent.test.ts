import { AIMessage } from '@langchain/core/messages';
import { FakeListChatModel } from '@langchain/core/utils/testing';
import { tool } from '@langchain/core/tools';
import { MemorySaver } from '@langchain/langgraph';
import { z } from 'zod';
import type { AgentEvent } from './events.js';
import { createLocalModel } from './local-model.js';
import { collect, turn } from '../test/support/collect.js';
import { ScriptedChatModel } from '../test/support/scripted-model.js';
import { AGENT_ENGINES, agentOn } from '../test/support/engines.js';

describe.each(AGENT_ENGINES)('%s engine', (engine) => {
  const createAgent = agentOn(engine);

  describe('agent with the local model', () => {
    const agent = createAgent({ model: createLocalModel({ tokenDelayMs: 0 }) });

    it('answers arithmetic through the calculator tool', async () => {
      const { events, done, text } = await collect(agent.stream(turn('What is 12*(3+4)?')));
      const types = events.map((e) => e.type);
      expect(types[0]).toBe('tool-start');
      expect(events[0]).toMatchObject({ type: 'tool-start', name: 'calculator', input: { expression: '12*(3+4)' } });
      expect(events[1]).toMatchObject({ type: 'tool-end', name: 'calculator', output: '84' });
      expect((events[0] as { callId: string }).callId).toBe((events[1] as { callId: string }).callId);
      expect(types.slice(2, -1).every((t) => t === 'token')).toBe(true);
      expect(types.slice(2, -1).length).toBeGreaterThan(1);
      expect(text).toBe('12*(3+4) = 84.');
      expect(done).toMatchObject({ type: 'done', reason: 'stop', model: 'local' });
      expect(done.usage?.inputTokens).toBeGreaterThan(0);
      expect(done.usage?.outputTokens).toBeGreaterThan(0);
    });

    it('answers time questions through the clock tool', async () => {
      const { events, done } = await collect(agent.stream(turn('What time is it in Europe/Paris?')));
      expect(events[0]).toMatchObject({ type: 'tool-start', name: 'clock', input: { timezone: 'Europe/Paris' } });
      expect(events[1]).toMatchObject({ type: 'tool-end', name: 'clock', output: expect.stringContaining('(Europe/Paris)') });
      expect(done.reason).toBe('stop');
    });

    it('streams a plain answer with no tools', async () => {
      const { events, done } = await collect(agent.stream(turn('hello')));
      expect(events.filter((e) => e.type === 'token')).toHaveLength(36);
      expect(done.reason).toBe('stop');
    });

    it('passes a tool error back to the model, which explains it', async () => {
      const { events, text, done } = await collect(agent.stream(turn('What is 5/0?')));
      expect(events[1]).toMatchObject({ type: 'tool-end', name: 'calculator', error: expect.stringContaining('Division by zero') });
      expect(text).toContain('Division by zero');
      expect(done.reason).toBe('stop');
    });
  });

  describe('agent state', () => {
    it('persists the conversation across turns of one session (checkpointer)', async () => {
      const model = new ScriptedChatModel([{ text: 'first answer' }, { text: 'second answer' }, { text: 'other session' }]);
      const checkpointer = new MemorySaver();
      const agent = createAgent({ model, checkpointer });
      await collect(agent.stream(turn('first question', 'session-a')));
      await collect(agent.stream(turn('second question', 'session-a')));
      await collect(agent.stream(turn('unrelated', 'session-b')));
      const [, second, third] = model.state.calls;
      expect(second.map((m) => [m.type, m.content])).toEqual([
        ['system', expect.any(String)],
        ['human', 'first question'],
        ['ai', 'first answer'],
        ['human', 'second question'],
      ]);
      expect(third.map((m) => m.content).slice(1)).toEqual(['unrelated']);
      const saved = await checkpointer.getTuple({ configurable: { thread_id: 'session-a' } });
      expect(saved).toBeDefined();
    });

    it('works with a stock LangChain fake model', async () => {
      const agent = createAgent({ model: new FakeListChatModel({ responses: ['Hi there', 'Again'] }) });
      const first = await collect(agent.stream(turn('hello', 'fake-1')));
      expect(first.text).toBe('Hi there');
      expect(first.done).toMatchObject({ reason: 'stop', model: 'fake-list' });
      expect(first.done.usage?.outputTokens).toBeGreaterThan(0); // estimated: the fake reports none
    });

    it('trims the context sent to the model to the token budget', async () => {
      const model = new ScriptedChatModel([{ text: 'x '.repeat(100) }]);
      const agent = createAgent({ model, maxContextTokens: 600, systemPrompt: 'Be brief. {{memories}} {{now}}' });
      for (let i = 0; i < 12; i += 1) await collect(agent.stream(turn(`question ${i} ` + 'q'.repeat(200), 'long')));
      const last = model.state.calls.at(-1)!;
      expect(last[0].type).toBe('system');
      expect(last.at(-1)?.content).toContain('question 11');
      expect(last.length).toBeLessThan(12 * 2);
      expect(last[1].type).toBe('human');
    });

    it('prunes stored turns that fell out of the context window, keeping the checkpoint bounded', async () => {
      const model = new ScriptedChatModel([{ text: 'x '.repeat(100) }]);
      const checkpointer = new MemorySaver();
      const agent = createAgent({ model, checkpointer, maxContextTokens: 600, systemPrompt: 'Be brief. {{memories}} {{now}}' });
      const stored = async (): Promise<number> => {
        const saved = await checkpointer.getTuple({ configurable: { thread_id: 'pruned' } });
        return (saved!.checkpoint.channel_values.messages as unknown[]).length;
      };
      const sizes: number[] = [];
      for (let i = 0; i < 30; i += 1) {
        await collect(agent.stream(turn(`question ${i} ` + 'q'.repeat(200), 'pruned')));
        sizes.push(await stored());
      }
      // Without pruning 60 messages would be stored; the window holds a few turns, plus the batch.
      expect(Math.max(...sizes.slice(10))).toBeLessThanOrEqual(20);
      const last = model.state.calls.at(-1)!;
      expect(last[1].type).toBe('human');
      expect(last.at(-1)?.content).toContain('question 29');
      // What the model sees is what trimming alone would give: whole recent turns.
      expect(last.length).toBeGreaterThan(2);
    });

    it('reports usage from the provider and the model that answered', async () => {
      const model = new ScriptedChatModel([
        { toolCalls: [{ name: 'calculator', args: { expression: '1+1' } }], usage: { input_tokens: 10, output_tokens: 3, total_tokens: 13 }, modelName: 'm-1' },
        { text: 'two', usage: { input_tokens: 20, output_tokens: 1, total_tokens: 21 }, modelName: 'm-2' },
      ]);
      const { done } = await collect(createAgent({ model }).stream(turn('1+1')));
      expect(done).toMatchObject({ reason: 'stop', model: 'm-2', usage: { inputTokens: 30, outputTokens: 4 } });
    });
  });

  describe('agent message assembly', () => {
    it('stores text and tool calls of one answer together', async () => {
      const model = new ScriptedChatModel([
        { text: 'Let me check that.', toolCalls: [{ name: 'calculator', args: { expression: '6*7' } }] },
        { text: 'It is 42.' },
      ]);
      const { events, text } = await collect(createAgent({ model }).stream(turn('6*7?')));
      expect(text).toBe('Let me check that.It is 42.');
      expect(events.find((e) => e.type === 'tool-end')).toMatchObject({ output: '42' });
      const [ai, result] = model.state.calls[1].slice(-2);
      expect(ai.content).toBe('Let me check that.');
      expect(AIMessage.isInstance(ai) && ai.tool_calls?.[0]).toMatchObject({ name: 'calculator', args: { expression: '6*7' } });
      expect(result.content).toBe('42');
    });
  });

  describe('agent memory hooks and tool context', () => {
    it('puts recalled memories into the system prompt and calls afterTurn', async () => {
      const model = new ScriptedChatModel([{ text: 'Green!' }]);
      const afterTurn = vi.fn();
      const recall = vi.fn(async () => ['favourite colour is green']);
      const agent = createAgent({ model, memory: { recall, afterTurn } });
      const { done } = await collect(agent.stream(turn('what is my favourite colour?', 'mem')));
      expect(done.reason).toBe('stop');
      expect(recall).toHaveBeenCalledWith('user-1', 'what is my favourite colour?', expect.any(AbortSignal));
      expect(String(model.state.calls[0][0].content)).toContain('- favourite colour is green');
      expect(afterTurn).toHaveBeenCalledWith({ userId: 'user-1', sessionId: 'mem', userText: 'what is my favourite colour?', answer: 'Green!' });
    });

    it('runs the turn without memories when recall fails, and survives a throwing afterTurn', async () => {
      const warn = vi.fn();
      const agent = createAgent({
        model: new ScriptedChatModel([{ text: 'ok' }]),
        memory: {
          recall: async () => Promise.reject(new Error('vector store down')),
          afterTurn: () => {
            throw new Error('queue full');
          },
        },
        logger: { warn },
      });
      const { done, text } = await collect(agent.stream(turn('hi')));
      expect(done.reason).toBe('stop');
      expect(text).toBe('ok');
      expect(warn).toHaveBeenCalledWith('memory recall failed; running the turn without memories', expect.objectContaining({ error: 'vector store down' }));
      expect(warn).toHaveBeenCalledWith('memory afterTurn hook failed', expect.objectContaining({ error: 'queue full' }));
    });

    it('lets the local model use remember/recall tools, which see the userId', async () => {
      const facts: Array<{ userId: unknown; fact: string }> = [];
      const remember = tool(
        ({ fact }: { fact: string }, config) => {
          facts.push({ userId: config?.configurable?.userId, fact });
          return 'stored';
        },
        { name: 'remember', description: 'Store a fact', schema: z.object({ fact: z.string() }) },
      );
      const recall = tool(() => facts.map((f) => f.fact).join('; '), {
        name: 'recall',
        description: 'Look up facts',
        schema: z.object({ query: z.string() }),
      });
      const agent = createAgent({ model: createLocalModel({ tokenDelayMs: 0 }), tools: [remember, recall] });
      const stored = await collect(agent.stream(turn('Remember that my favourite colour is green', 'mem-2')));
      expect(stored.events[0]).toMatchObject({ type: 'tool-start', name: 'remember' });
      expect(facts).toEqual([{ userId: 'user-1', fact: 'my favourite colour is green' }]);
      const asked = await collect(agent.stream(turn('What is my favourite colour?', 'mem-2')));
      expect(asked.events[1]).toMatchObject({ type: 'tool-end', name: 'recall', output: 'my favourite colour is green' });
      expect(asked.text).toContain('green');
    });

    it('rejects a model without bindTools and duplicate tool names at creation', () => {
      expect(() => createAgent({ model: {} as never })).toThrow('bindTools');
      const calc = tool(() => '1', { name: 'calculator', description: 'dup', schema: z.object({}) });
      expect(() => createAgent({ model: createLocalModel(), tools: [calc] })).toThrow('Duplicate tool name "calculator"');
      expect(() => createAgent({ model: createLocalModel(), systemPrompt: 'Hi {{unknown}}' })).toThrow('{{unknown}}');
    });

    it('turns invalid input into an error event, not a throw', async () => {
      const agent = createAgent({ model: createLocalModel({ tokenDelayMs: 0 }) });
      const events: AgentEvent[] = [];
      for await (const e of agent.stream({ sessionId: '', userId: 'u', runId: 'r', text: 'hi' })) events.push(e);
      expect(events.map((e) => e.type)).toEqual(['error', 'done']);
      expect(events[1]).toMatchObject({ reason: 'error', error: { code: 'internal' } });
    });
  });
});
