/**
 * Tool-call trajectory matching with openevals' `createTrajectoryMatchEvaluator` (strict,
 * unordered, subset, superset), plus argument matchers per tool where exact equality is too
 * strict: an expression is the same when it computes the same number, a fact when it holds the
 * same words.
 */
import { evaluateExpression } from '@switchboard/agent-core';
import { createTrajectoryMatchEvaluator } from 'openevals';
import type { ToolCall } from './dataset.js';
import type { ToolRecord } from './run-record.js';

type ArgsMode = 'exact' | 'ignore' | 'subset' | 'superset' | 'tool';
type Matcher = (actual: Record<string, unknown>, expected: Record<string, unknown>) => boolean;

function normalized(value: unknown): string {
  return String(value ?? '').toLowerCase().replace(/[^\p{L}\p{N}]+/gu, ' ').trim();
}

/** Same value when both compute (12*(3+4) matches 84), else the same text without spaces. */
function sameNumber(a: unknown, b: unknown): boolean {
  try {
    return Math.abs(evaluateExpression(String(a)) - evaluateExpression(String(b))) < 1e-9;
  } catch {
    return String(a ?? '').replace(/\s+/g, '') === String(b ?? '').replace(/\s+/g, '');
  }
}

/** Every word of the expected value appears in the actual one (order and punctuation aside). */
function containsWords(actual: unknown, expected: unknown): boolean {
  const have = new Set(normalized(actual).split(' '));
  return normalized(expected).split(' ').every((w) => w === '' || have.has(w));
}

/** The argument matcher of each built-in and eval tool, used unless a case overrides it. */
export const TOOL_ARG_MATCHERS: Record<string, Matcher> = {
  calculator: (a, e) => e.expression === undefined || sameNumber(a.expression, e.expression),
  clock: (a, e) => e.timezone === undefined || normalized(a.timezone) === normalized(e.timezone),
  remember: (a, e) => e.fact === undefined || containsWords(a.fact, e.fact),
  recall: (a, e) => e.query === undefined || containsWords(a.query, e.query),
  fetch_page: (a, e) => e.url === undefined || a.url === e.url,
};

function asMessages(calls: Array<{ name: string; args: unknown }>, answer: string) {
  const messages: Array<Record<string, unknown>> = [{ role: 'user', content: 'turn' }];
  calls.forEach((call, index) => {
    const id = `call_${index}`;
    messages.push({ role: 'assistant', content: '', tool_calls: [{ id, type: 'function', function: { name: call.name, arguments: JSON.stringify(call.args ?? {}) } }] });
    messages.push({ role: 'tool', content: 'result', tool_call_id: id });
  });
  messages.push({ role: 'assistant', content: answer });
  return messages;
}

function overrides(modes: Record<string, ArgsMode>, tools: string[]): Record<string, Exclude<ArgsMode, 'tool'> | Matcher> {
  const out: Record<string, Exclude<ArgsMode, 'tool'> | Matcher> = {};
  for (const name of tools) {
    const mode = modes[name] ?? 'tool';
    if (mode !== 'tool') out[name] = mode;
    else out[name] = TOOL_ARG_MATCHERS[name] ?? ((a, e) => JSON.stringify(a) === JSON.stringify(e));
  }
  return out;
}

/**
 * Matches the calls a run made against the expected calls.
 * @example
 * await matchTrajectory(run.tools, [{ name: 'calculator', args: { expression: '12*(3+4)' } }], 'strict', {});
 */
export async function matchTrajectory(
  actual: ToolRecord[],
  expected: ToolCall[],
  mode: 'strict' | 'unordered' | 'subset' | 'superset',
  argModes: Record<string, ArgsMode>,
): Promise<{ pass: boolean; detail: string }> {
  const names = [...new Set([...actual.map((c) => c.name), ...expected.map((c) => c.name)])];
  const evaluator = createTrajectoryMatchEvaluator({
    trajectoryMatchMode: mode,
    toolArgsMatchMode: 'exact',
    toolArgsMatchOverrides: overrides(argModes, names),
  });
  const result = await evaluator({
    outputs: asMessages(actual.map((c) => ({ name: c.name, args: c.input })), 'answer') as never,
    referenceOutputs: asMessages(expected, 'answer') as never,
  });
  const pass = result.score === true || result.score === 1;
  const show = (calls: Array<{ name: string; args: unknown }>) => calls.map((c) => `${c.name}(${JSON.stringify(c.args ?? {})})`).join(', ') || 'no tools';
  return { pass, detail: pass ? '' : `${mode} trajectory: got ${show(actual.map((c) => ({ name: c.name, args: c.input })))}, expected ${show(expected)}` };
}
