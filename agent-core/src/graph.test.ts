import { AIMessage, AIMessageChunk, HumanMessage, RemoveMessage, ToolMessage, type BaseMessage } from '@langchain/core/messages';
import { messagesStateReducer, REMOVE_ALL_MESSAGES } from '@langchain/langgraph';
import { reduceMessages } from './agent-state.js';

/** What a list looks like, ids included (ids given to new messages are random, so only their presence). */
const shape = (messages: BaseMessage[]) => messages.map((m) => [m.type, m.content, typeof m.id === 'string' && m.id !== '']);

/** Runs the same writes through both reducers from the same start; fresh message objects for each. */
function both(start: () => BaseMessage[], writes: (() => BaseMessage[])[]) {
  let ours = reduceMessages([], start());
  let upstream = messagesStateReducer([], start());
  for (const write of writes) {
    ours = reduceMessages(ours, write());
    upstream = messagesStateReducer(upstream, write());
  }
  return { ours, upstream };
}

describe('reduceMessages', () => {
  const start = () => [new HumanMessage({ id: 'h1', content: 'one' }), new AIMessage({ id: 'a1', content: 'two' })];

  it('appends new messages and gives an id to those without one, as upstream', () => {
    const { ours, upstream } = both(start, [() => [new HumanMessage('three')], () => [new AIMessage('four'), new ToolMessage({ content: 'x', tool_call_id: 'c' })]]);
    expect(shape(ours)).toEqual(shape(upstream));
    expect(ours.at(-1)!.lc_kwargs.id).toBe(ours.at(-1)!.id);
  });

  it('replaces a message by id and removes by id, as upstream', () => {
    const { ours, upstream } = both(start, [() => [new AIMessage({ id: 'a1', content: 'changed' }), new RemoveMessage({ id: 'h1' }), new HumanMessage({ id: 'h2', content: 'three' })]]);
    expect(shape(ours)).toEqual(shape(upstream));
    expect(ours.map((m) => m.id)).toEqual(['a1', 'h2']);
  });

  it('a removal of everything keeps only what follows it', () => {
    const { ours, upstream } = both(start, [() => [new HumanMessage({ id: 'x', content: 'gone' }), new RemoveMessage({ id: REMOVE_ALL_MESSAGES }), new HumanMessage({ id: 'h9', content: 'kept' })]]);
    expect(shape(ours)).toEqual(shape(upstream));
    expect(ours.map((m) => m.id)).toEqual(['h9']);
  });

  it('a removal of an unknown id throws, as upstream', () => {
    const list = reduceMessages([], start());
    expect(() => reduceMessages(list, [new RemoveMessage({ id: 'nope' })])).toThrow(/doesn't exist/);
  });

  it('a chunk becomes its message class, and a list it did not produce goes through upstream', () => {
    const loaded = start(); // as revived from a checkpoint: not yet seen by the reducer
    const out = reduceMessages(loaded, [new AIMessageChunk({ id: 'c1', content: 'streamed' })]);
    expect(out.at(-1)).toBeInstanceOf(AIMessage);
    expect(out.at(-1)).not.toBeInstanceOf(AIMessageChunk);
    expect(shape(out)).toEqual(shape(messagesStateReducer(start(), [new AIMessageChunk({ id: 'c1', content: 'streamed' })])));
  });
});
