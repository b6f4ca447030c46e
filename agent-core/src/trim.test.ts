import { AIMessage, HumanMessage, SystemMessage, ToolMessage, type BaseMessage } from '@langchain/core/messages';
import { estimateMessageTokens, estimateMessagesTokens } from './tokens.js';
import { repairToolPairs, toMessageUnits, toolCallIds, trimMessagesToBudget } from './trim.js';

/** Small deterministic PRNG (mulberry32) so failures reproduce from the seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function generateConversation(random: () => number): BaseMessage[] {
  const int = (n: number): number => Math.floor(random() * n);
  const text = (): string => 'word '.repeat(int(60));
  const messages: BaseMessage[] = [];
  if (random() < 0.8) messages.push(new SystemMessage('system ' + text()));
  const length = int(40);
  let callSeq = 0;
  for (let i = 0; i < length; i += 1) {
    const roll = random();
    if (roll < 0.35) messages.push(new HumanMessage(text()));
    else if (roll < 0.6) messages.push(new AIMessage(text()));
    else if (roll < 0.93) {
      const ids = Array.from({ length: 1 + int(3) }, () => `c${callSeq++}`);
      messages.push(new AIMessage({ content: random() < 0.5 ? '' : text(), tool_calls: ids.map((id) => ({ id, name: 'calculator', args: { expression: '1+1' } })) }));
      const answered = ids.filter(() => random() < 0.9);
      if (random() < 0.3) answered.reverse();
      for (const id of answered) messages.push(new ToolMessage({ content: text(), tool_call_id: id }));
      if (random() < 0.1) messages.push(new ToolMessage({ content: 'duplicate', tool_call_id: ids[0] }));
    } else {
      messages.push(new ToolMessage({ content: 'orphan ' + text(), tool_call_id: `orphan${i}` }));
    }
  }
  return messages;
}

/** Asserts the invariants every window sent to a model must hold. */
function assertValidSequence(window: BaseMessage[]): void {
  let i = 0;
  while (i < window.length && window[i].type === 'system') i += 1;
  expect(window[i]?.type).not.toBe('tool');
  while (i < window.length) {
    const message = window[i];
    expect(message.type).not.toBe('tool'); // every tool result belongs to the AI block before it
    const ids = toolCallIds(message);
    i += 1;
    const seen = new Set<string>();
    while (i < window.length && window[i].type === 'tool') {
      const id = (window[i] as ToolMessage).tool_call_id;
      expect(ids).toContain(id);
      expect(seen.has(id)).toBe(false);
      seen.add(id);
      i += 1;
    }
    expect(seen.size).toBe(ids.length); // no tool call without its result
  }
}

describe('trimMessagesToBudget', () => {
  it('keeps everything when the budget allows', () => {
    const messages = [new SystemMessage('sys'), new HumanMessage('hi'), new AIMessage('hello')];
    expect(trimMessagesToBudget(messages, { maxTokens: 1000 })).toEqual(messages);
  });

  it('keeps the system prompt and the newest turns', () => {
    const turn = (n: number): BaseMessage[] => [new HumanMessage(`question ${n} ` + 'x'.repeat(80)), new AIMessage(`answer ${n} ` + 'y'.repeat(80))];
    const messages = [new SystemMessage('sys'), ...turn(1), ...turn(2), ...turn(3)];
    const perTurn = estimateMessagesTokens(turn(1));
    const result = trimMessagesToBudget(messages, { maxTokens: estimateMessageTokens(messages[0]) + 2 * perTurn });
    expect(result.map((m) => m.content.toString().slice(0, 10))).toEqual(['sys', 'question 2', 'answer 2 y', 'question 3', 'answer 3 y']);
  });

  it('never separates a tool call from its results', () => {
    const messages = [
      new HumanMessage('old'),
      new AIMessage({ content: '', tool_calls: [{ id: 'a', name: 'calculator', args: {} }] }),
      new ToolMessage({ content: 'x'.repeat(400), tool_call_id: 'a' }),
      new AIMessage('done'),
    ];
    const result = trimMessagesToBudget(messages, { maxTokens: 20 });
    expect(result.map((m) => m.content)).toEqual(['old', 'done']); // the call and its big result go together
    assertValidSequence(result);
  });

  it('keeps the opener of an over-long newest turn when it fits', () => {
    const call = (id: string): BaseMessage[] => [
      new AIMessage({ content: '', tool_calls: [{ id, name: 'calculator', args: {} }] }),
      new ToolMessage({ content: 'r'.repeat(200), tool_call_id: id }),
    ];
    const messages = [new HumanMessage('the question'), ...call('a'), ...call('b'), ...call('c'), new AIMessage('final')];
    const result = trimMessagesToBudget(messages, { maxTokens: 80 });
    expect(result[0].content).toBe('the question');
    expect(result.at(-1)?.content).toBe('final');
    assertValidSequence(result);
  });

  it('fills in results for unanswered tool calls and drops orphaned results', () => {
    const messages = [
      new ToolMessage({ content: 'orphan', tool_call_id: 'zzz' }),
      new HumanMessage('q'),
      new AIMessage({ content: '', tool_calls: [{ id: 'a', name: 'clock', args: {} }] }),
      new HumanMessage('next question'),
    ];
    const repaired = repairToolPairs(messages);
    expect(repaired.map((m) => m.type)).toEqual(['human', 'ai', 'tool', 'human']);
    expect((repaired[2] as ToolMessage).status).toBe('error');
    expect((repaired[2] as ToolMessage).tool_call_id).toBe('a');
  });

  it('handles empty input and a budget of zero', () => {
    expect(trimMessagesToBudget([], { maxTokens: 100 })).toEqual([]);
    const messages = [new SystemMessage('s'), new HumanMessage('a'), new AIMessage('b')];
    expect(trimMessagesToBudget(messages, { maxTokens: 0 }).map((m) => m.type)).toEqual(['system', 'ai']);
  });

  it('always yields a valid sequence (2,000 generated conversations)', () => {
    for (let seed = 1; seed <= 2000; seed += 1) {
      const random = prng(seed);
      const messages = generateConversation(random);
      const maxTokens = Math.floor(random() * 600);
      const result = trimMessagesToBudget(messages, { maxTokens });
      assertValidSequence(result);

      const systems = messages.filter((m, i) => m.type === 'system' && messages.slice(0, i).every((p) => p.type === 'system'));
      expect(result.slice(0, systems.length)).toEqual(systems);
      const units = toMessageUnits(messages.slice(systems.length));
      const body = result.slice(systems.length);
      if (units.length > 0) {
        // The newest unit is always kept, in full, at the end.
        expect(body.slice(-units.at(-1)!.length).map((m) => m.content)).toEqual(units.at(-1)!.map((m) => m.content));
      }
      // Order is preserved: kept original messages appear in input order.
      const positions = body.map((m) => messages.indexOf(m)).filter((p) => p >= 0);
      expect(positions).toEqual([...positions].sort((a, b) => a - b));
      // Over budget only when nothing more could be dropped (newest unit, plus at most the opener).
      if (estimateMessagesTokens(result) > maxTokens) {
        expect(toMessageUnits(body).length).toBeLessThanOrEqual(2);
      }
    }
  });
});
