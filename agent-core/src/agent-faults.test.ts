import { AIMessage, ToolMessage } from '@langchain/core/messages';
import { tool } from '@langchain/core/tools';
import { z } from 'zod';
import type { ToolEndEvent } from './events.js';
import { createLocalModel } from './local-model.js';
import { collect, turn } from '../test/support/collect.js';
import { ScriptedChatModel } from '../test/support/scripted-model.js';
import { toolCallIds } from './trim.js';
import { AGENT_ENGINES, agentOn } from '../test/support/engines.js';

const hangingTool = tool(() => new Promise<string>(() => {}), { name: 'hang', description: 'never returns', schema: z.object({}) });

describe.each(AGENT_ENGINES)('%s engine', (engine) => {
  const createAgent = agentOn(engine);

  describe('agent against failing models', () => {
    it('reports a model that throws before any token', async () => {
      const agent = createAgent({ model: new ScriptedChatModel([{ error: new Error('connection refused') }]) });
      const { events, done } = await collect(agent.stream(turn('hi')));
      expect(events.map((e) => e.type)).toEqual(['error', 'done']);
      expect(events[0]).toEqual({ type: 'error', code: 'model_unavailable', message: 'connection refused', retryable: true });
      expect(done).toMatchObject({ reason: 'error', error: { code: 'model_unavailable', message: 'connection refused' } });
    });

    it('reports a model that throws after a few tokens', async () => {
      const agent = createAgent({ model: new ScriptedChatModel([{ text: 'one two three four', throwAfterTokens: 2, error: new Error('stream cut') }]) });
      const { events, done, text } = await collect(agent.stream(turn('hi')));
      expect(events.map((e) => e.type)).toEqual(['token', 'token', 'error', 'done']);
      expect(text).toBe('one two');
      expect(done.reason).toBe('error');
      expect(done.usage?.outputTokens).toBeGreaterThan(0);
    });

    it('keeps the code and retryable flag of a typed model error', async () => {
      const typed = Object.assign(new Error('all models down'), { code: 'model_unavailable', retryable: false });
      const { events } = await collect(createAgent({ model: new ScriptedChatModel([{ error: typed }]) }).stream(turn('hi')));
      expect(events[0]).toMatchObject({ type: 'error', code: 'model_unavailable', retryable: false });
    });

    it('feeds an unknown tool back to the model as an error', async () => {
      const model = new ScriptedChatModel([{ toolCalls: [{ name: 'launch_missiles', args: {} }] }, { text: 'sorry' }]);
      const { events, done } = await collect(createAgent({ model }).stream(turn('do it')));
      expect(events.slice(0, 2)).toMatchObject([
        { type: 'tool-start', name: 'launch_missiles' },
        { type: 'tool-end', name: 'launch_missiles', error: expect.stringContaining('unknown tool "launch_missiles"') },
      ]);
      expect(done.reason).toBe('stop');
      const result = model.state.calls[1].at(-1)!;
      expect(result.type).toBe('tool');
      expect(String(result.content)).toContain('unknown tool');
    });

    it('feeds invalid arguments back to the model as an error', async () => {
      const model = new ScriptedChatModel([
        { toolCalls: [{ name: 'calculator', args: { formula: '1+1' } }] },
        { toolCalls: [{ name: 'calculator', args: 'definitely not json' }] },
        { text: 'gave up' },
      ]);
      const { events, done } = await collect(createAgent({ model }).stream(turn('add')));
      const ends = events.filter((e): e is ToolEndEvent => e.type === 'tool-end');
      expect(ends.map((e) => e.error)).toEqual([
        expect.stringContaining('invalid arguments for "calculator": expression'),
        expect.stringContaining('not valid JSON'),
      ]);
      expect(done.reason).toBe('stop');
      // The unparseable call is stored as a call with empty arguments, answered by its error result,
      // so providers that drop invalid calls from the request never see an orphaned result.
      const [ai, result] = model.state.calls[2].slice(-2);
      expect(AIMessage.isInstance(ai) && ai.tool_calls?.map((c) => [c.id, c.args])).toEqual([['call_1_0', {}]]);
      expect(ToolMessage.isInstance(result) && result.tool_call_id).toBe('call_1_0');
    });

    it('ends a model that loops on tool calls with done{reason:"length"} and keeps the session usable', async () => {
      const model = new ScriptedChatModel([{ toolCalls: [{ name: 'calculator', args: { expression: '1+1' } }] }]);
      const agent = createAgent({ model, maxToolRounds: 3 });
      const { events, done } = await collect(agent.stream(turn('loop', 'loop-session')));
      expect(done.reason).toBe('length');
      expect(events.filter((e) => e.type === 'tool-end')).toHaveLength(3);
      expect(events.some((e) => e.type === 'error')).toBe(false);
      expect(model.state.calls).toHaveLength(4);

      // The next turn sends a valid history: every tool call has its result.
      await collect(agent.stream(turn('again', 'loop-session')));
      const history = model.state.calls[4];
      for (const [i, message] of history.entries()) {
        const ids = toolCallIds(message);
        const results = history.slice(i + 1, i + 1 + ids.length).map((m) => (ToolMessage.isInstance(m) ? m.tool_call_id : ''));
        expect(results).toEqual(ids);
      }
    });

    it('times out a hanging tool and lets the model answer', async () => {
      const model = new ScriptedChatModel([{ toolCalls: [{ name: 'hang', args: {} }] }, { text: 'the tool timed out' }]);
      const agent = createAgent({ model, tools: [hangingTool], toolTimeoutMs: 30 });
      const { events, done } = await collect(agent.stream(turn('wait')));
      expect(events[1]).toMatchObject({ type: 'tool-end', name: 'hang', error: 'tool "hang" timed out after 30 ms' });
      expect(done.reason).toBe('stop');
    });

    it('caps tool output', async () => {
      const big = tool(() => 'z'.repeat(10_000), { name: 'big', description: 'big output', schema: z.object({}) });
      const model = new ScriptedChatModel([{ toolCalls: [{ name: 'big', args: {} }] }, { text: 'ok' }]);
      const { events } = await collect(createAgent({ model, tools: [big], maxToolOutputChars: 200 }).stream(turn('big')));
      expect((events[1] as ToolEndEvent).output?.length).toBeLessThanOrEqual(200);
      expect(String(model.state.calls[1].at(-1)!.content).length).toBeLessThanOrEqual(200);
    });
  });

  describe('agent cancellation', () => {
    it('cancels mid-stream with done{reason:"cancelled"}', async () => {
      const controller = new AbortController();
      const agent = createAgent({ model: createLocalModel({ tokenDelayMs: 1 }) });
      const events = [];
      for await (const event of agent.stream(turn('a long answer please', undefined, controller.signal))) {
        events.push(event);
        if (events.length === 5) controller.abort();
      }
      const done = events.at(-1);
      expect(done).toMatchObject({ type: 'done', reason: 'cancelled', model: 'local' });
      expect(events.filter((e) => e.type === 'done')).toHaveLength(1);
      expect(events.filter((e) => e.type === 'token').length).toBeLessThan(400);
      expect(events.some((e) => e.type === 'error')).toBe(false);
    });

    it('aborts a running tool, closes its tool event and keeps the session usable', async () => {
      const model = new ScriptedChatModel([{ toolCalls: [{ name: 'hang', args: {} }] }, { text: 'next turn' }]);
      const agent = createAgent({ model, tools: [hangingTool], toolTimeoutMs: 60_000 });
      const controller = new AbortController();
      const events = [];
      for await (const event of agent.stream(turn('wait', 'cancel-tool', controller.signal))) {
        events.push(event);
        if (event.type === 'tool-start') controller.abort();
      }
      expect(events.map((e) => e.type)).toEqual(['tool-start', 'tool-end', 'done']);
      expect(events[1]).toMatchObject({ error: 'cancelled' });
      expect(events[2]).toMatchObject({ reason: 'cancelled' });

      const next = await collect(agent.stream(turn('hello again', 'cancel-tool')));
      expect(next.done.reason).toBe('stop');
      const history = model.state.calls[1].map((m) => m.type);
      expect(history).toEqual(['system', 'human', 'ai', 'tool', 'human']);
    });

    it('cancels a model that ignores the abort signal', async () => {
      const model = new ScriptedChatModel([{ hang: true, ignoreAbort: true }]);
      const controller = new AbortController();
      const running = collect(createAgent({ model }).stream(turn('hi', undefined, controller.signal)));
      setTimeout(() => controller.abort(), 10);
      expect((await running).done.reason).toBe('cancelled');
    });

    it('aborts the model request when cancelled', async () => {
      const model = new ScriptedChatModel([{ hang: true }]);
      const controller = new AbortController();
      const running = collect(createAgent({ model }).stream(turn('hi', undefined, controller.signal)));
      setTimeout(() => controller.abort(), 10);
      expect((await running).done.reason).toBe('cancelled');
      expect(model.state.aborted).toBe(1);
    });

    it('ends at once when the signal already fired', async () => {
      const model = new ScriptedChatModel([{ text: 'never' }]);
      const { events } = await collect(createAgent({ model }).stream(turn('hi', undefined, AbortSignal.abort())));
      expect(events).toEqual([{ type: 'done', reason: 'cancelled', model: 'scripted' }]);
      expect(model.state.calls).toHaveLength(0);
    });

    it('stops the run when the consumer leaves early', async () => {
      const model = new ScriptedChatModel([{ text: 'a b c d e f g h i j k l m n o p' }]);
      for await (const event of createAgent({ model }).stream(turn('hi'))) {
        if (event.type === 'token') break;
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(model.state.aborted).toBe(1);
    });
  });

  describe('agent under concurrency', () => {
    it('delivers every token of 20 concurrent runs of a zero-delay model', async () => {
      const agent = createAgent({ model: createLocalModel({ tokenDelayMs: 0 }) });
      const runs = await Promise.all(Array.from({ length: 20 }, (_, i) => collect(agent.stream(turn('hello', `c-${i}`)))));
      for (const run of runs) {
        expect(run.events.filter((e) => e.type === 'token')).toHaveLength(36);
        expect(run.done.reason).toBe('stop');
      }
    });
  });
});
