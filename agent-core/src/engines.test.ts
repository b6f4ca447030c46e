/**
 * The two engines on one thread: a conversation written by either is continued by the other
 * (same checkpoints), both keep the same state when a run fails or is cancelled, both write what
 * `durability` says, and only LangGraph runs the steps inside a RunnableConfig context.
 */
import { AsyncLocalStorageProviderSingleton } from '@langchain/core/singletons';
import { MemorySaver, type BaseCheckpointSaver } from '@langchain/langgraph';
import type { AgentEngineName } from './engine.js';
import { AGENT_ENGINES, agentOn } from '../test/support/engines.js';
import { collect, turn } from '../test/support/collect.js';
import { ScriptedChatModel, type ScriptStep } from '../test/support/scripted-model.js';

const toolRound = (expression: string): ScriptStep => ({ toolCalls: [{ name: 'calculator', args: { expression } }] });
const shape = (messages: { type: string; content: unknown }[]) => messages.map((m) => `${m.type}:${typeof m.content === 'string' ? m.content : '…'}`);

async function storedMessages(saver: BaseCheckpointSaver, thread: string): Promise<string[]> {
  const saved = await saver.getTuple({ configurable: { thread_id: thread } });
  return shape((saved?.checkpoint.channel_values.messages as { type: string; content: unknown }[] | undefined) ?? []);
}

async function checkpointCount(saver: BaseCheckpointSaver, thread: string): Promise<number> {
  let n = 0;
  for await (const _ of saver.list({ configurable: { thread_id: thread } })) n += 1;
  return n;
}

const ORDERS: [AgentEngineName, AgentEngineName][] = [
  ['loop', 'langgraph'],
  ['langgraph', 'loop'],
];

describe.each(['exit', 'async', 'sync'] as const)('engines on one thread (durability %s)', (durability) => {
  it.each(ORDERS)('%s writes a thread that %s continues, and back', async (first, second) => {
    const model = new ScriptedChatModel([toolRound('2+2'), { text: 'four' }, { text: 'hello again' }, toolRound('3*3'), { text: 'nine' }]);
    const checkpointer = new MemorySaver();
    const on = (engine: AgentEngineName) => agentOn(engine)({ model, checkpointer, durability });
    const thread = `${first}-${second}-${durability}`;
    expect((await collect(on(first).stream(turn('2+2?', thread)))).text).toBe('four');
    expect((await collect(on(second).stream(turn('hi', thread)))).text).toBe('hello again');
    const third = await collect(on(first).stream(turn('3*3?', thread)));
    expect(third.text).toBe('nine');
    expect(third.events.find((e) => e.type === 'tool-end')).toMatchObject({ output: '9' });
    // Each model call saw the whole conversation so far, whichever engine wrote it.
    const history = ['human:2+2?', 'ai:', 'tool:4', 'ai:four', 'human:hi', 'ai:hello again', 'human:3*3?'];
    expect(shape(model.state.calls[2]).slice(1)).toEqual(history.slice(0, 5));
    expect(shape(model.state.calls[3]).slice(1)).toEqual(history);
    expect(await storedMessages(checkpointer, thread)).toEqual([...history, 'ai:', 'tool:9', 'ai:nine']);
  });
});

describe.each(AGENT_ENGINES)('%s engine checkpoints', (engine) => {
  const createAgent = agentOn(engine);

  it('with durability exit writes one checkpoint per run', async () => {
    const checkpointer = new MemorySaver();
    const agent = createAgent({ model: new ScriptedChatModel([toolRound('1+1'), { text: 'two' }, { text: 'ok' }]), checkpointer, durability: 'exit' });
    await collect(agent.stream(turn('1+1?', 'exit-count')));
    expect(await checkpointCount(checkpointer, 'exit-count')).toBe(1);
    await collect(agent.stream(turn('thanks', 'exit-count')));
    expect(await checkpointCount(checkpointer, 'exit-count')).toBe(2);
  });

  it('with durability async stores each finished step while the run goes on', async () => {
    const checkpointer = new MemorySaver();
    const agent = createAgent({ model: new ScriptedChatModel([toolRound('1+1'), { hang: true }]), checkpointer, durability: 'async' });
    const ctrl = new AbortController();
    const events = agent.stream(turn('1+1?', 'async-steps', ctrl.signal))[Symbol.asyncIterator]();
    while ((await events.next()).value?.type !== 'tool-end');
    await vi.waitFor(async () => expect(await storedMessages(checkpointer, 'async-steps')).toEqual(['human:1+1?', 'ai:', 'tool:2']));
    ctrl.abort();
    while (!(await events.next()).done);
  });

  it.each(['exit', 'async'] as const)('keeps the finished steps of a cancelled run (durability %s)', async (durability) => {
    const checkpointer = new MemorySaver();
    const model = new ScriptedChatModel([toolRound('1+1'), { hang: true }]);
    const agent = createAgent({ model, checkpointer, durability });
    const ctrl = new AbortController();
    const thread = `cancelled-${durability}`;
    const run = collect(agent.stream(turn('1+1?', thread, ctrl.signal)));
    await vi.waitFor(() => expect(model.state.calls).toHaveLength(2));
    ctrl.abort();
    expect((await run).done.reason).toBe('cancelled');
    expect(await storedMessages(checkpointer, thread)).toEqual(['human:1+1?', 'ai:', 'tool:2']);
  });

  it('keeps the finished steps of a failed run', async () => {
    const checkpointer = new MemorySaver();
    const agent = createAgent({ model: new ScriptedChatModel([toolRound('1+1'), { error: new Error('down') }]), checkpointer, durability: 'exit' });
    expect((await collect(agent.stream(turn('1+1?', 'failed')))).done.reason).toBe('error');
    expect(await storedMessages(checkpointer, 'failed')).toEqual(['human:1+1?', 'ai:', 'tool:2']);
  });
});

it('the loop runs its steps outside any RunnableConfig context; LangGraph runs them inside one', async () => {
  const seen: Record<string, unknown> = {};
  for (const engine of AGENT_ENGINES) {
    const agent = agentOn(engine)({
      model: new ScriptedChatModel([{ text: 'ok' }]),
      now: () => {
        seen[engine] = AsyncLocalStorageProviderSingleton.getRunnableConfig();
        return new Date();
      },
    });
    await collect(agent.stream(turn('hi')));
  }
  expect(seen.loop).toBeUndefined();
  expect(seen.langgraph).toBeDefined();
});
