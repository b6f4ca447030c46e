/**
 * The agent over the model chain on the mock server, once per client: the chain's own
 * streaming path (no LangChain chunks) must give the same events as before — tokens, a tool
 * round trip, provider usage, cancellation that disconnects the request, and failures.
 */
import { createMockOpenAI, type MockOpenAI } from '@switchboard/mock-llm';
import { collect, turn } from '../test/support/collect.js';
import { MODEL_CLIENTS, mockKit } from '../test/support/model-chain.js';
import { AGENT_ENGINES, agentOn } from '../test/support/engines.js';

let mock: MockOpenAI;
beforeAll(async () => {
  mock = await createMockOpenAI();
});
afterAll(async () => {
  await mock.close();
});
beforeEach(() => {
  for (const name of ['primary', 'backup']) mock.setScenario(name, undefined);
  mock.reset();
});

describe.each(AGENT_ENGINES)('%s engine', (engine) => {
  const createAgent = agentOn(engine);

  describe.each(MODEL_CLIENTS)('agent over the model chain (%s client)', (client) => {
    const { chain } = mockKit(() => mock, client);

    it('streams the answer token by token and reports provider usage and the answering model', async () => {
      mock.setScenario('primary', { fault: '500', failFirst: 1 });
      const agent = createAgent({ model: chain(['primary', 'backup']) });
      const { events, done, text } = await collect(agent.stream(turn('tell me something')));
      expect(events.filter((e) => e.type === 'token')).toHaveLength(12);
      expect(text.split(' ')).toHaveLength(12);
      expect(done).toMatchObject({ reason: 'stop', model: 'primary', usage: { outputTokens: 12 } });
      expect(done.usage?.inputTokens).toBeGreaterThan(0);
    });

    it('runs a tool call the model streamed in fragments, then answers with its result', async () => {
      const agent = createAgent({ model: chain(['primary']) });
      const { events: all, done, text } = await collect(agent.stream(turn('what is 2 + 3 * 4?')));
      // Each model call first names the model it committed to.
      expect(all.filter((e) => e.type === 'model-start')).toEqual([
        { type: 'model-start', model: 'primary' },
        { type: 'model-start', model: 'primary' },
      ]);
      const events = all.filter((e) => e.type !== 'model-start');
      expect(events[0]).toMatchObject({ type: 'tool-start', name: 'calculator', input: { expression: '2 + 3 * 4' } });
      expect(events[1]).toMatchObject({ type: 'tool-end', name: 'calculator', output: '14' });
      expect(text).toBe('The result is 14.');
      expect(done.reason).toBe('stop');
      const second = mock.stats.log[1].body as { messages: Array<{ role: string; tool_call_id?: string; tool_calls?: unknown[] }> };
      expect(second.messages.map((m) => m.role)).toEqual(['system', 'user', 'assistant', 'tool']);
      expect(second.messages[3].tool_call_id).toBe((events[0] as { callId: string }).callId);
    });

    it('keeps the conversation: the next turn sends the earlier messages', async () => {
      const agent = createAgent({ model: chain(['primary']) });
      const session = `chat-${client}`;
      await collect(agent.stream(turn('first question', session)));
      await collect(agent.stream(turn('second question', session)));
      const body = mock.stats.log[1].body as { messages: Array<{ role: string }> };
      expect(body.messages.map((m) => m.role)).toEqual(['system', 'user', 'assistant', 'user']);
    });

    it('cancelling mid-stream disconnects the HTTP request and ends with done{cancelled}', async () => {
      mock.setScenario('primary', { tokensPerSecond: 50, responseTokens: 100 });
      const agent = createAgent({ model: chain(['primary']) });
      const ctrl = new AbortController();
      let tokens = 0;
      const events = [];
      for await (const event of agent.stream(turn('a long one', undefined, ctrl.signal))) {
        events.push(event);
        if (event.type === 'token' && ++tokens === 3) ctrl.abort();
      }
      expect(events.at(-1)).toMatchObject({ type: 'done', reason: 'cancelled' });
      await mock.waitFor((s) => s.aborted === 1);
    });

    it('a model that is down ends with an error event and done{error}', async () => {
      mock.setScenario('primary', { fault: '429', retryAfterSec: 30 });
      const agent = createAgent({ model: chain(['primary']) });
      const { events, done } = await collect(agent.stream(turn('anyone?')));
      expect(events.find((e) => e.type === 'error')).toMatchObject({ code: 'model_unavailable', retryable: true });
      expect(done).toMatchObject({ reason: 'error', error: { code: 'model_unavailable' } });
    });
  });
});
