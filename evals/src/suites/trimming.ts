/**
 * Context trimming, checked two ways: agent-core's `trimMessagesToBudget` on generated
 * conversations (tool rounds, dangling results of cancelled runs, long turns), and the real
 * requests the agent sends the mock model in long conversations with a small budget (the
 * `trimming` cases, checked by the case suite).
 */
import { AIMessage, HumanMessage, SystemMessage, ToolMessage, type BaseMessage } from '@langchain/core/messages';
import { estimateMessagesTokens, estimateMessageTokens, trimMessagesToBudget } from '@switchboard/agent-core';
import { metricFrom, type CaseOutcome, type MetricResult } from '../results.js';
import { runCaseSuite } from './cases.js';
import type { SuiteContext } from './context.js';

/** A small deterministic PRNG (mulberry32), so every run generates the same conversations. */
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

function words(random: () => number, count: number): string {
  return Array.from({ length: count }, () => ['alpha', 'beta', 'gamma', 'delta', 'tool', 'answer'][Math.floor(random() * 6)]).join(' ');
}

/** A conversation of `turns` turns with tool rounds, some results missing (cancelled runs). */
export function generateConversation(seed: number, turns: number): BaseMessage[] {
  const random = prng(seed);
  const messages: BaseMessage[] = [new SystemMessage(`You are a test assistant. ${words(random, 20)}`)];
  let call = 0;
  for (let t = 0; t < turns; t += 1) {
    messages.push(new HumanMessage(words(random, 3 + Math.floor(random() * 60))));
    const rounds = Math.floor(random() * 3);
    for (let r = 0; r < rounds; r += 1) {
      const ids = Array.from({ length: 1 + Math.floor(random() * 2) }, () => `call_${seed}_${call++}`);
      messages.push(new AIMessage({ content: '', tool_calls: ids.map((id) => ({ id, name: 'calculator', args: { expression: '1+2' }, type: 'tool_call' as const })) }));
      for (const id of ids) if (random() > 0.1) messages.push(new ToolMessage({ content: words(random, 1 + Math.floor(random() * 40)), tool_call_id: id, name: 'calculator' }));
    }
    if (random() > 0.15) messages.push(new AIMessage(words(random, 2 + Math.floor(random() * 80))));
  }
  return messages;
}

/** The invariants of a trimmed window; an empty list means it holds them all. */
export function windowProblems(input: BaseMessage[], window: BaseMessage[], maxTokens: number): string[] {
  const problems: string[] = [];
  if (window[0]?.type !== 'system' || window[0].content !== input[0].content) problems.push('system prompt not kept first');
  const newest = input[input.length - 1];
  if (!window.includes(newest) && !ToolMessage.isInstance(newest)) problems.push('newest message dropped');
  const tokens = estimateMessagesTokens(window);
  // Over budget is allowed only for system prompt + the newest unit (a message, or a tool call with its results).
  let unitStart = window.length - 1;
  while (unitStart > 1 && ToolMessage.isInstance(window[unitStart])) unitStart -= 1;
  const floor = estimateMessageTokens(window[0]) + estimateMessagesTokens(window.slice(unitStart));
  if (tokens > maxTokens && tokens > floor) problems.push(`window ${tokens} tokens > budget ${maxTokens} (newest unit alone: ${floor})`);
  const calls = new Set<string>();
  for (const [i, m] of window.entries()) {
    if (AIMessage.isInstance(m)) for (const c of m.tool_calls ?? []) calls.add(c.id ?? '');
    if (ToolMessage.isInstance(m) && !calls.has(m.tool_call_id)) problems.push(`tool result ${m.tool_call_id} without its call at ${i}`);
    if (i === 1 && ToolMessage.isInstance(m)) problems.push('window starts with a tool result');
  }
  for (const m of window) {
    if (!AIMessage.isInstance(m)) continue;
    for (const c of m.tool_calls ?? []) {
      if (!window.some((x) => ToolMessage.isInstance(x) && x.tool_call_id === c.id)) problems.push(`call ${c.id} without its result`);
    }
  }
  return problems;
}

/** Trims `count` generated conversations at random budgets and checks each window. */
export function checkGeneratedTrims(count = 200): CaseOutcome[] {
  const outcomes: CaseOutcome[] = [];
  for (let seed = 1; seed <= count; seed += 1) {
    const input = generateConversation(seed, 1 + (seed % 12));
    const random = prng(seed * 7919);
    const maxTokens = 40 + Math.floor(random() * 900);
    const problems = windowProblems(input, trimMessagesToBudget(input, { maxTokens }), maxTokens);
    outcomes.push({
      caseId: `generated-${seed}`,
      model: 'agent-core',
      pass: problems.length === 0,
      score: problems.length === 0 ? 1 : 0,
      failures: problems.map((detail) => ({ check: 'trim', detail: `budget ${maxTokens}: ${detail}` })),
    });
  }
  return outcomes;
}

export async function runTrimmingSuite(ctx: SuiteContext): Promise<MetricResult[]> {
  const metrics = ctx.remote ? [] : [metricFrom({ suite: 'trimming', name: 'function', model: 'agent-core', kind: 'deterministic', outcomes: checkGeneratedTrims() })];
  ctx.progress('trimming generated conversations');
  return [...metrics, ...(await runCaseSuite('trimming', 'requests', ctx))];
}
