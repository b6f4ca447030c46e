/**
 * Both agent engines on the gateway's own checkpointer (PGlite): a thread written by the loop
 * is continued by LangGraph and back, read the same by a second checkpointer on the database (a
 * fresh blob cache, as another gateway process), and deleted with the session.
 */
import { createAgent, createLocalModel, type AgentEngineName } from '@switchboard/agent-core';
import { createCheckpointer, openStorage, type Checkpointer } from '../src/backends/postgres/index.js';
import type { Storage } from '../src/backends/postgres/types.js';

let storage: Storage;
let checkpointer: Checkpointer;
beforeAll(async () => {
  storage = await openStorage({});
  checkpointer = createCheckpointer(storage);
});
afterAll(async () => {
  await storage.close();
});

async function run(engine: AgentEngineName, sessionId: string, text: string): Promise<string> {
  const agent = createAgent({ model: createLocalModel({ tokenDelayMs: 0 }), checkpointer, engine, durability: 'exit' });
  let answer = '';
  for await (const event of agent.stream({ sessionId, userId: 'user-1', runId: `${engine}-${text}`, text })) {
    if (event.type === 'token') answer += event.text;
    if (event.type === 'done') expect(event.reason).toBe('stop');
  }
  return answer;
}

async function stored(saver: Checkpointer, sessionId: string): Promise<string[]> {
  const saved = await saver.getTuple({ configurable: { thread_id: sessionId } });
  return ((saved?.checkpoint.channel_values.messages as { type: string }[] | undefined) ?? []).map((m) => m.type);
}

const toolTurn = ['human', 'ai', 'tool', 'ai'];

it.each([
  ['loop', 'langgraph'],
  ['langgraph', 'loop'],
] as const)('%s and %s take turns on one thread in the gateway checkpointer', async (first, second) => {
  const session = `engines-${first}`;
  expect(await run(first, session, 'What is 2+3?')).toContain('5');
  expect(await stored(checkpointer, session)).toEqual(toolTurn);
  expect(await run(second, session, 'What is 4*5?')).toContain('20');
  expect(await run(first, session, 'hello')).not.toBe('');
  const all = [...toolTurn, ...toolTurn, 'human', 'ai'];
  expect(await stored(checkpointer, session)).toEqual(all);
  expect(await stored(createCheckpointer(storage), session)).toEqual(all);
  await checkpointer.deleteThread(session);
  expect(await stored(createCheckpointer(storage), session)).toEqual([]);
});
