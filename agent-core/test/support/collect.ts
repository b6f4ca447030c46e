import type { AgentEvent, DoneEvent } from '../../src/events.js';

/** Drains an agent stream and checks that it ended with exactly one `done`. */
export async function collect(stream: AsyncIterable<AgentEvent>): Promise<{ events: AgentEvent[]; done: DoneEvent; text: string }> {
  const events: AgentEvent[] = [];
  for await (const event of stream) events.push(event);
  const dones = events.filter((e): e is DoneEvent => e.type === 'done');
  expect(dones).toHaveLength(1);
  expect(events.at(-1)).toBe(dones[0]);
  const text = events.map((e) => (e.type === 'token' ? e.text : '')).join('');
  return { events, done: dones[0], text };
}

let counter = 0;
/** A fresh run input for `sessionId`. */
export function turn(text: string, sessionId = `s-${++counter}`, signal?: AbortSignal) {
  return { sessionId, userId: 'user-1', runId: `run-${++counter}`, text, signal };
}
