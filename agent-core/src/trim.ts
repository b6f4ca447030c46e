import { AIMessage, ToolMessage, type BaseMessage } from '@langchain/core/messages';
import { estimateMessageTokens } from './tokens.js';

/** Options of {@link trimMessagesToBudget}. */
export interface TrimOptions {
  /** Token budget for the whole list, system prompt included. */
  maxTokens: number;
  /**
   * Token counter for one message.
   * @default estimateMessageTokens (ceil(chars / 4) + 4 per message)
   */
  countTokens?: (message: BaseMessage) => number;
}

/** Ids of the tool calls an AI message makes (valid and unparseable ones alike). */
export function toolCallIds(message: BaseMessage): string[] {
  if (!AIMessage.isInstance(message)) return [];
  const ids = [...(message.tool_calls ?? []), ...(message.invalid_tool_calls ?? [])].map((call) => call.id);
  return ids.filter((id): id is string => typeof id === 'string' && id !== '');
}

function callName(message: AIMessage, id: string): string | undefined {
  return [...(message.tool_calls ?? []), ...(message.invalid_tool_calls ?? [])].find((call) => call.id === id)?.name ?? undefined;
}

/**
 * Splits a conversation into units that must stay together: an AI message with tool calls plus
 * exactly one result for each call (results it lacks are filled with an error result, e.g. after a
 * cancelled run); any other message alone. Tool results that answer no preceding call are dropped.
 */
export function toMessageUnits(messages: readonly BaseMessage[]): BaseMessage[][] {
  const units: BaseMessage[][] = [];
  let i = 0;
  while (i < messages.length) {
    const message = messages[i];
    i += 1;
    if (ToolMessage.isInstance(message)) continue; // orphaned result
    const ids = toolCallIds(message);
    if (ids.length === 0) {
      units.push([message]);
      continue;
    }
    const results = new Map<string, ToolMessage>();
    while (i < messages.length && ToolMessage.isInstance(messages[i])) {
      const result = messages[i] as ToolMessage;
      if (ids.includes(result.tool_call_id) && !results.has(result.tool_call_id)) results.set(result.tool_call_id, result);
      i += 1;
    }
    const ai = message as AIMessage;
    const unit: BaseMessage[] = [ai, ...results.values()]; // results keep their original order
    for (const id of ids) {
      if (results.has(id)) continue;
      unit.push(new ToolMessage({ content: 'Error: the tool call did not complete.', tool_call_id: id, name: callName(ai, id), status: 'error' }));
    }
    units.push(unit);
  }
  return units;
}

/** The conversation with every tool call paired with its results and orphaned results removed. */
export function repairToolPairs(messages: readonly BaseMessage[]): BaseMessage[] {
  return toMessageUnits(messages).flat();
}

/**
 * Trims a conversation to a token budget. Keeps the leading system message(s) and the newest
 * turns (a turn starts at a human message). If even the newest turn is over budget, keeps its
 * newest messages plus, when it fits, the human message that opened it. Never splits an AI tool
 * call from its results, so the kept window never starts with a tool result or with an AI message
 * whose tool calls lack results. The newest message is always kept, even when over budget alone.
 *
 * @example
 * const window = trimMessagesToBudget(history, { maxTokens: 4000 });
 */
export function trimMessagesToBudget(messages: readonly BaseMessage[], options: TrimOptions): BaseMessage[] {
  const count = options.countTokens ?? estimateMessageTokens;
  let start = 0;
  while (start < messages.length && messages[start].type === 'system') start += 1;
  const system = messages.slice(0, start);
  const units = toMessageUnits(messages.slice(start));
  if (units.length === 0) return [...system];

  const unitCost = units.map((unit) => unit.reduce((sum, m) => sum + count(m), 0));
  let budget = options.maxTokens - system.reduce((sum, m) => sum + count(m), 0);

  // Turn boundaries: indexes of units that start with a human message (and 0).
  const turnStarts = [0, ...units.flatMap((unit, index) => (index > 0 && unit[0].type === 'human' ? [index] : []))];

  let keepFrom = units.length;
  for (let t = turnStarts.length - 1; t >= 0; t -= 1) {
    const from = turnStarts[t];
    const cost = unitCost.slice(from, keepFrom).reduce((a, b) => a + b, 0);
    if (cost > budget) break;
    budget -= cost;
    keepFrom = from;
  }
  if (keepFrom < units.length) return [...system, ...units.slice(keepFrom).flat()];

  // The newest turn alone is over budget: keep its newest units, and its opener when it fits.
  const turnStart = turnStarts[turnStarts.length - 1];
  const last = units.length - 1;
  budget -= unitCost[last];
  const opener = turnStart < last && units[turnStart][0].type === 'human' && unitCost[turnStart] <= budget ? turnStart : -1;
  if (opener >= 0) budget -= unitCost[opener];
  let from = last;
  while (from - 1 > Math.max(opener, turnStart - 1) && unitCost[from - 1] <= budget) {
    from -= 1;
    budget -= unitCost[from];
  }
  const kept = units.slice(from);
  return [...system, ...(opener >= 0 ? units[opener] : []), ...kept.flat()];
}
