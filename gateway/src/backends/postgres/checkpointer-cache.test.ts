/**
 * The checkpointer's per-process blob cache: two checkpointers on one database stand for two
 * gateway processes taking turns on one conversation; each must see the other's turns, and what a
 * caller does to a value it got must not reach the next read.
 */
import { AIMessage, HumanMessage, type BaseMessage } from '@langchain/core/messages';
import { Annotation, END, messagesStateReducer, START, StateGraph } from '@langchain/langgraph';
import { PostgresSaver } from '@langchain/langgraph-checkpoint-postgres';
import type pg from 'pg';
import { createCheckpointer } from './checkpointer.js';
import { DB_CONTEXT, openStorage, type OpenedStorage } from './open-storage.js';

const State = Annotation.Root({
  messages: Annotation<BaseMessage[]>({ reducer: messagesStateReducer, default: () => [] }),
});

/** A one-node graph that answers with how many messages it saw. */
function graphOn(checkpointer: ReturnType<typeof createCheckpointer>) {
  return new StateGraph(State)
    .addNode('reply', (state) => ({ messages: [new AIMessage(`seen ${state.messages.length}`)] }))
    .addEdge(START, 'reply')
    .addEdge('reply', END)
    .compile({ checkpointer });
}

const texts = (messages: BaseMessage[]) => messages.map((m) => m.content);

describe('checkpointer blob cache', () => {
  let storage: OpenedStorage;
  beforeAll(async () => {
    storage = (await openStorage()) as OpenedStorage;
  });
  afterAll(async () => {
    await storage.close();
  });

  it('two processes taking turns on one thread each see the other’s turns', async () => {
    const a = graphOn(createCheckpointer(storage));
    const b = graphOn(createCheckpointer(storage));
    const config = { configurable: { thread_id: 'thread-alternating' }, durability: 'exit' as const };
    await a.invoke({ messages: [new HumanMessage('one')] }, config);
    await b.invoke({ messages: [new HumanMessage('two')] }, config);
    await a.invoke({ messages: [new HumanMessage('three')] }, config);
    await a.invoke({ messages: [new HumanMessage('four')] }, config);
    await b.invoke({ messages: [new HumanMessage('five')] }, config);
    const expected = ['one', 'seen 1', 'two', 'seen 3', 'three', 'seen 5', 'four', 'seen 7', 'five', 'seen 9'];
    expect(texts((await a.getState(config)).values.messages)).toEqual(expected);
    expect(texts((await b.getState(config)).values.messages)).toEqual(expected);
    // What upstream's reader finds in the tables is the same conversation.
    const { saverPool, schema } = storage[DB_CONTEXT];
    const upstream = new PostgresSaver(saverPool as pg.Pool, undefined, { schema });
    const tuple = await upstream.getTuple({ configurable: { thread_id: 'thread-alternating' } });
    expect(texts(tuple?.checkpoint.channel_values.messages as BaseMessage[])).toEqual(expected);
  });

  it('a value changed in place by its reader is not what the next read returns', async () => {
    const checkpointer = createCheckpointer(storage);
    const graph = graphOn(checkpointer);
    const config = { configurable: { thread_id: 'thread-mutated' } };
    await graph.invoke({ messages: [new HumanMessage('hello')] }, config);
    const first = await checkpointer.getTuple(config);
    (first!.checkpoint.channel_values.messages as BaseMessage[]).push(new HumanMessage('injected'));
    const second = await checkpointer.getTuple(config);
    expect(texts(second?.checkpoint.channel_values.messages as BaseMessage[])).toEqual(['hello', 'seen 1']);
  });

  it('writes a list channel byte for byte as the serializer writes the whole list', async () => {
    const checkpointer = createCheckpointer(storage);
    const graph = graphOn(checkpointer);
    const config = { configurable: { thread_id: 'thread-bytes' } };
    await graph.invoke({ messages: [new HumanMessage('first ☃ "quoted"')] }, config);
    await graph.invoke({ messages: [new HumanMessage({ content: [{ type: 'text', text: 'second' }], additional_kwargs: { x: [1, { y: null }] } })] }, config);
    const tuple = await checkpointer.getTuple(config);
    const messages = tuple?.checkpoint.channel_values.messages as BaseMessage[];
    const { saverPool, schema } = storage[DB_CONTEXT];
    const { rows } = await (saverPool as pg.Pool).query(
      `SELECT blob FROM "${schema}".checkpoint_blobs WHERE thread_id = $1 AND channel = 'messages' ORDER BY version DESC LIMIT 1`,
      ['thread-bytes'],
    );
    const [, expected] = await checkpointer.serde.dumpsTyped(messages);
    expect(Buffer.from(rows[0].blob as Uint8Array).toString('utf8')).toBe(Buffer.from(expected).toString('utf8'));
    expect(texts(messages)).toHaveLength(4);
  });

  it('a deleted thread starts empty again', async () => {
    const checkpointer = createCheckpointer(storage);
    const graph = graphOn(checkpointer);
    const config = { configurable: { thread_id: 'thread-deleted' } };
    await graph.invoke({ messages: [new HumanMessage('before')] }, config);
    await checkpointer.deleteThread('thread-deleted');
    expect(await checkpointer.getTuple(config)).toBeUndefined();
    await graph.invoke({ messages: [new HumanMessage('after')] }, config);
    expect(texts((await graph.getState(config)).values.messages)).toEqual(['after', 'seen 1']);
  });
});
