import { AIMessage, ToolMessage, type BaseMessage } from '@langchain/core/messages';
import { errorMessage } from './errors.js';
import { contentText } from './tokens.js';
import { evaluateExpression, formatNumber } from './tools/expression.js';

/** What the offline model decided to do next. */
export type LocalReply =
  | { kind: 'tool'; name: string; args: Record<string, unknown> }
  | { kind: 'text'; text: string };

/** The tools bound to the offline model: name → the argument that carries its main string. */
export type BoundToolArgs = ReadonlyMap<string, string>;

/** Lengths of the scripted answers, in word-ish tokens. */
export interface ScriptLengths {
  defaultAnswerTokens: number;
  longAnswerTokens: number;
}

/** The scripted greeting: exactly 36 word-ish tokens (the default answer length). */
const INTRO =
  "Hi! I'm the offline local model of Switchboard. I run without any network, so my answers are " +
  'scripted. Ask me to calculate something like 12*(3+4), ask what time it is, or tell me to ' +
  'remember something.';
const FILLER = [
  'This sentence is here so that long streams can be tested end to end.',
  'Every word arrives as its own token, at the pace the model was configured with.',
  'Nothing here comes from a real language model; it is a deterministic script.',
];

/** Exactly `count` word-ish tokens of friendly scripted text. */
export function scriptedAnswer(count: number): string {
  const words: string[] = [];
  const sources = [INTRO, ...FILLER];
  for (let s = 0; words.length < count; s += 1) {
    const sentence = s < sources.length ? sources[s] : FILLER[(s - sources.length) % FILLER.length];
    words.push(...sentence.split(' '));
  }
  const text = words.slice(0, Math.max(1, count)).join(' ');
  return /[.!?]$/.test(text) ? text : `${text}.`;
}

const FUNCTION_WORDS = 'sqrt|cbrt|abs|round|floor|ceil|ln|log|exp|min|max|pi';
const EXPRESSION_RUN = new RegExp(`(?:\\b(?:${FUNCTION_WORDS})\\b|[\\d.()+\\-*/%^,×÷\\s])+`, 'gi');
const HAS_OPERATION = new RegExp(`\\d\\s*(?:[-+*/%^×÷]|\\*\\*)\\s*[-+(\\d.]|\\b(?:${FUNCTION_WORDS})\\s*\\(`, 'i');

/** The arithmetic expression in a user message, e.g. "What is 12*(3+4)?" → "12*(3+4)". */
export function extractExpression(text: string): string | undefined {
  const candidates = (text.match(EXPRESSION_RUN) ?? [])
    .map((run) => run.trim().replace(/^[,\s]+|[,.\s]+$/g, '').replace(/×/g, '*').replace(/÷/g, '/'))
    .filter((run) => HAS_OPERATION.test(run));
  if (candidates.length === 0) return undefined;
  return candidates.reduce((best, run) => (run.length > best.length ? run : best));
}

const TIME_QUESTION = /\b(what time|time is it|current time|the time|what day|which day|what date|today'?s date|the date|date today|day is it)\b/i;
const TIME_ZONE = /\b((?:Africa|America|Antarctica|Asia|Atlantic|Australia|Europe|Indian|Pacific|Etc)\/[A-Za-z_]+(?:\/[A-Za-z_]+)?|UTC)\b/;
const REMEMBER = /^\s*(?:please\s+)?remember(?:\s+that)?[\s:,]+(.+?)[.!]*\s*$/i;
const FACT = /\b(my\s+(?:favou?rite\s+[a-z]+|name|birthday|hometown|job)\s+is\s+.+?)[.!]*\s*$/i;
const RECALL = /\b(?:what(?:'s| is| are| was)|do you (?:remember|know)|tell me)\s+(?:about\s+)?(my\s+[a-z ]+?)\s*\??\s*$/i;

/** Without a calculator tool, the model still answers arithmetic (with the same parser). */
function computeDirectly(expression: string): string {
  try {
    return `${expression} = ${formatNumber(evaluateExpression(expression))}.`;
  } catch (error) {
    return `I can't compute ${expression}: ${errorMessage(error)}.`;
  }
}

function lastIndexOfType(messages: readonly BaseMessage[], type: string): number {
  for (let i = messages.length - 1; i >= 0; i -= 1) if (messages[i].type === type) return i;
  return -1;
}

function callArgs(messages: readonly BaseMessage[], callId: string): Record<string, unknown> {
  for (let i = messages.length - 1; i >= 0; i -= 1) {
    const message = messages[i];
    if (!AIMessage.isInstance(message)) continue;
    const call = message.tool_calls?.find((c) => c.id === callId);
    if (call) return call.args;
  }
  return {};
}

function answerFromResult(result: ToolMessage, args: Record<string, unknown>): string {
  const output = contentText(result.content).trim();
  const name = result.name ?? 'tool';
  if (result.status === 'error' || output.startsWith('Error:')) {
    return `Sorry, the ${name} tool reported an error: ${output.replace(/^Error:\s*/, '')}.`;
  }
  switch (name) {
    case 'calculator':
      return typeof args.expression === 'string' ? `${args.expression} = ${output}.` : `The result is ${output}.`;
    case 'clock':
      return `It is ${output.replace(/;\s*ISO .*$/, '')}.`;
    case 'remember':
      return "Got it, I'll remember that.";
    case 'recall':
      return output === '' || output === '[]' ? "I don't remember anything about that yet." : `Here is what I remember: ${output}`;
    default:
      return `The ${name} tool returned: ${output}`;
  }
}

/**
 * Decides the offline model's next step from the conversation: answer from tool results when the
 * last messages are results of its calls, else call a tool the user's text asks for (when that tool
 * is bound), else a scripted answer.
 */
export function planLocalReply(messages: readonly BaseMessage[], tools: BoundToolArgs, lengths: ScriptLengths): LocalReply {
  const lastHuman = lastIndexOfType(messages, 'human');
  const last = messages.at(-1);
  if (last && ToolMessage.isInstance(last) && lastIndexOfType(messages, 'tool') > lastHuman) {
    let first = messages.length - 1;
    while (first > 0 && ToolMessage.isInstance(messages[first - 1])) first -= 1;
    const results = messages.slice(first) as ToolMessage[];
    return { kind: 'text', text: results.map((r) => answerFromResult(r, callArgs(messages, r.tool_call_id))).join(' ') };
  }
  const text = lastHuman >= 0 ? contentText(messages[lastHuman].content) : '';
  const toolCall = (name: string, value: string | undefined, fallbackArg: string): LocalReply | undefined => {
    if (!tools.has(name)) return undefined;
    const arg = tools.get(name) || fallbackArg;
    return { kind: 'tool', name, args: value === undefined ? {} : { [arg]: value } };
  };

  const fact = REMEMBER.exec(text)?.[1] ?? FACT.exec(text)?.[1];
  if (fact) {
    return toolCall('remember', fact, 'fact') ?? { kind: 'text', text: "I can't store memories in this setup, so I'll only know that for this conversation." };
  }
  const topic = RECALL.exec(text)?.[1];
  if (topic) {
    const reply = toolCall('recall', topic.trim(), 'query');
    if (reply) return reply;
  }
  const clock = TIME_QUESTION.test(text) ? toolCall('clock', TIME_ZONE.exec(text)?.[1], 'timezone') : undefined;
  if (clock) return clock;
  const expression = extractExpression(text);
  if (expression) return toolCall('calculator', expression, 'expression') ?? { kind: 'text', text: computeDirectly(expression) };
  const count = /\blong answer\b/i.test(text) ? lengths.longAnswerTokens : lengths.defaultAnswerTokens;
  return { kind: 'text', text: scriptedAnswer(count) };
}
