/**
 * Deterministic content of the mock: answer text, tool-call decisions and hashed embeddings.
 * The same request always produces the same answer, so tests can assert on it.
 */

/** The subset of an OpenAI chat message the mock reads. */
export interface ChatMessageIn {
  role: string;
  content?: unknown;
  tool_calls?: unknown;
  tool_call_id?: string;
}

/** The subset of an OpenAI tool definition the mock reads. */
export interface ToolIn {
  type?: string;
  function?: { name?: string; parameters?: { properties?: Record<string, { type?: string }> } };
}

/** What the mock answers: text tokens, or one tool call. */
export type MockAnswer =
  | { kind: 'text'; tokens: string[] }
  | { kind: 'tool'; id: string; name: string; arguments: string };

const WORDS = [
  'the', 'agent', 'streams', 'tokens', 'over', 'a', 'socket', 'while', 'models', 'answer',
  'quickly', 'and', 'every', 'frame', 'arrives', 'in', 'order', 'with', 'its', 'sequence',
  'number', 'so', 'clients', 'resume', 'cleanly', 'after', 'drops', 'gateway', 'nodes', 'share',
];

const ARITHMETIC_RUN = /[\d(][\d\s.+\-*/^%()]*[\d)]/g;
const HAS_OPERATOR = /[\d)]\s*[-+*/^%]\s*[\d(]/;

/** FNV-1a 32-bit hash. */
export function fnv1a(text: string, seed = 0x811c9dc5): number {
  let h = seed >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** Text of a message's content (string, or an array of text parts). */
export function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content
      .map((part) =>
        typeof part === 'object' && part !== null && 'text' in part ? String((part as { text: unknown }).text) : '',
      )
      .join('');
  }
  return '';
}

/** The arithmetic expression in a text, if any (e.g. "what is 2 + 3 * 4?" → "2 + 3 * 4"). */
export function findArithmetic(text: string): string | undefined {
  for (const run of text.match(ARITHMETIC_RUN) ?? []) {
    let expr = run.trim();
    // Drop parentheses that the surrounding prose opened or closed.
    while (expr.startsWith('(') && depth(expr) > 0) expr = expr.slice(1).trim();
    while (expr.endsWith(')') && depth(expr) < 0) expr = expr.slice(0, -1).trim();
    if (HAS_OPERATOR.test(expr) && depth(expr) === 0) return expr;
  }
  return undefined;
}

function depth(expr: string): number {
  let d = 0;
  for (const c of expr) d += c === '(' ? 1 : c === ')' ? -1 : 0;
  return d;
}

/** Splits fixed text into stream tokens: words with their leading space. */
export function textTokens(text: string): string[] {
  return text.split(/(?=\s)/).filter((t) => t.length > 0);
}

/** Deterministic text of `count` tokens derived from the prompt. */
export function generatedTokens(prompt: string, count: number): string[] {
  let h = fnv1a(prompt);
  const tokens: string[] = [];
  for (let i = 0; i < count; i++) {
    h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d) >>> 0;
    const word = WORDS[h % WORDS.length];
    tokens.push(i === 0 ? word[0].toUpperCase() + word.slice(1) : ` ${word}`);
  }
  if (tokens.length > 0) tokens[tokens.length - 1] += '.';
  return tokens;
}

/**
 * Decides the answer: a `calculator` tool call when the tool is offered and the last user
 * message holds arithmetic; after a tool message, an answer quoting its result; else text.
 */
export function decideAnswer(
  messages: ChatMessageIn[],
  tools: ToolIn[] | undefined,
  opts: { responseTokens: number; text?: string; toolCall?: { name: string; arguments: Record<string, unknown> }; textAfterTool?: string },
): MockAnswer {
  const last = messages[messages.length - 1];
  if (last?.role === 'tool') {
    return { kind: 'text', tokens: textTokens(opts.textAfterTool ?? `The result is ${contentText(last.content)}.`) };
  }
  const scripted = opts.toolCall;
  if (scripted && tools?.some((t) => t.function?.name === scripted.name)) {
    const args = JSON.stringify(scripted.arguments);
    return { kind: 'tool', id: `call_${fnv1a(scripted.name + args + messages.length).toString(16)}`, name: scripted.name, arguments: args };
  }
  if (opts.text !== undefined) return { kind: 'text', tokens: textTokens(opts.text) };
  const lastUser = [...messages].reverse().find((m) => m.role === 'user');
  const userText = lastUser ? contentText(lastUser.content) : '';
  const calculator = tools?.find((t) => t.function?.name === 'calculator');
  const expression = findArithmetic(userText);
  if (calculator && expression) {
    const props = calculator.function?.parameters?.properties ?? {};
    const argName =
      Object.entries(props).find(([, schema]) => schema?.type === 'string')?.[0] ?? 'expression';
    return {
      kind: 'tool',
      id: `call_${fnv1a(userText).toString(16)}`,
      name: 'calculator',
      arguments: JSON.stringify({ [argName]: expression }),
    };
  }
  return { kind: 'text', tokens: generatedTokens(userText, opts.responseTokens) };
}

/** A rough token count (chars / 4) used for the `usage` the mock reports. */
export function estimateTokens(messages: ChatMessageIn[]): number {
  let chars = 0;
  for (const m of messages) chars += contentText(m.content).length + 4;
  return Math.max(1, Math.ceil(chars / 4));
}

/** Deterministic, L2-normalised hashed bag-of-words embedding. */
export function hashEmbedding(text: string, dims: number): Float32Array {
  const v = new Float32Array(dims);
  const words = text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [text];
  for (const word of words) {
    const h = fnv1a(word);
    v[h % dims] += (h & 0x80000000) === 0 ? 1 : -1;
    const h2 = fnv1a(word, 0x9e3779b9);
    v[h2 % dims] += (h2 & 0x80000000) === 0 ? 0.5 : -0.5;
  }
  let norm = 0;
  for (let i = 0; i < dims; i++) norm += v[i] * v[i];
  norm = Math.sqrt(norm) || 1;
  for (let i = 0; i < dims; i++) v[i] /= norm;
  return v;
}

/** Base64 of little-endian float32s, as OpenAI sends with `encoding_format: "base64"`. */
export function float32ToBase64(v: Float32Array): string {
  return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64');
}
