/**
 * The agent's conversation state, as both engines keep it and as it is checkpointed: LangGraph's
 * channel names and its message reducer, so that either engine continues a thread the other wrote.
 */
import { randomUUID } from 'node:crypto';
import { BaseMessage, BaseMessageChunk, RemoveMessage } from '@langchain/core/messages';
import { Annotation, messagesStateReducer, REMOVE_ALL_MESSAGES } from '@langchain/langgraph';

/** Messages that came out of {@link reduceMessages}: real (not chunk) messages with an id. */
const reduced = new WeakSet<BaseMessage>();

/**
 * LangGraph's `messagesStateReducer`, without coercing the whole history again on every write:
 * when every message of `left` already came out of this reducer and every new one is a real
 * message (not a chunk), the merge is done here, with the same rules (ids given to messages that
 * have none, `RemoveMessage` by id or all, a message with a known id replaces the old one).
 * Anything else goes to upstream's reducer.
 */
export function reduceMessages(left: BaseMessage[] | BaseMessage, right: BaseMessage[] | BaseMessage): BaseMessage[] {
  const leftArray = Array.isArray(left) ? left : [left];
  const rightArray = Array.isArray(right) ? right : [right];
  const fast =
    leftArray.every((m) => reduced.has(m)) && rightArray.every((m) => reduced.has(m) || (BaseMessage.isInstance(m) && !BaseMessageChunk.isInstance(m)));
  const merged = fast ? mergeMessages(leftArray, rightArray) : messagesStateReducer(left, right);
  for (const m of merged) reduced.add(m);
  return merged;
}

function mergeMessages(left: BaseMessage[], right: BaseMessage[]): BaseMessage[] {
  let removeAllIdx: number | undefined;
  for (let i = 0; i < right.length; i++) {
    const m = right[i];
    if (m.id === null || m.id === undefined) {
      m.id = randomUUID();
      m.lc_kwargs.id = m.id;
    }
    if (RemoveMessage.isInstance(m) && m.id === REMOVE_ALL_MESSAGES) removeAllIdx = i;
  }
  if (removeAllIdx !== undefined) return right.slice(removeAllIdx + 1);
  const merged = [...left];
  const indexById = new Map(merged.map((m, i) => [m.id, i]));
  const idsToRemove = new Set<string>();
  for (const m of right) {
    const existing = indexById.get(m.id);
    if (existing !== undefined) {
      if (RemoveMessage.isInstance(m)) idsToRemove.add(m.id!);
      else {
        idsToRemove.delete(m.id!);
        merged[existing] = m;
      }
    } else {
      if (RemoveMessage.isInstance(m)) throw new Error(`Attempting to delete a message with an ID that doesn't exist ('${m.id}')`);
      indexById.set(m.id, merged.length);
      merged.push(m);
    }
  }
  return idsToRemove.size === 0 ? merged : merged.filter((m) => !idsToRemove.has(m.id!));
}

export const AgentState = Annotation.Root({
  messages: Annotation<BaseMessage[]>({ reducer: reduceMessages, default: () => [] }),
  /** Long-term memories for this turn, rendered into the system prompt. */
  memoryContext: Annotation<string>(),
  /** Tool rounds so far in this run (reset by every run's input). */
  toolRounds: Annotation<number>(),
  /** Set when the run hit the tool-round cap. */
  limitReached: Annotation<boolean>(),
  /** Tool calls of the last model answer whose arguments were not JSON: call id → parse error. */
  invalidCalls: Annotation<Record<string, string>>(),
});

export type AgentStateValue = typeof AgentState.State;
export type AgentStateUpdate = typeof AgentState.Update;

