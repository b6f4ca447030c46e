/**
 * Eval datasets: versioned JSONL files under `evals/datasets/`, one case per line, validated by
 * zod so a typo in a case fails loudly with its file and line.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { EvalsError } from './errors.js';

/** The suites a case can belong to. */
export const SuiteName = {
  Tools: 'tools',
  Memory: 'memory',
  Injection: 'injection',
  Trimming: 'trimming',
  Frames: 'frames',
  Budgets: 'budgets',
  Prompt: 'prompt',
  Judged: 'judged',
  Routing: 'routing',
} as const;
export type SuiteName = (typeof SuiteName)[keyof typeof SuiteName];
export const SUITE_NAMES = Object.values(SuiteName);

const id = z.string().regex(/^[a-z0-9][a-z0-9-]{0,79}$/, 'ids are lowercase letters, digits and dashes');

/**
 * What the mock OpenAI server does for one turn (sent as its `x-mock-scenario` header): a tool
 * call, the answer after the tool result, a fixed answer, pacing.
 */
export const MockScript = z
  .object({
    toolCall: z.object({ name: z.string(), arguments: z.record(z.string(), z.unknown()).default({}) }).optional(),
    textAfterTool: z.string().optional(),
    text: z.string().optional(),
    ttftMs: z.number().int().min(0).max(10_000).optional(),
    responseTokens: z.number().int().min(1).max(5_000).optional(),
    tokensPerSecond: z.number().min(0).max(10_000).optional(),
  })
  .strict();
export type MockScript = z.infer<typeof MockScript>;

/** One user turn. Turns with another `session` start a new conversation; `user` picks the account. */
export const Turn = z
  .object({
    text: z.string().min(1).max(8_000),
    session: z.string().min(1).max(40).default('s1'),
    user: z.string().min(1).max(40).default('alice'),
    mock: MockScript.optional(),
  })
  .strict();
export type Turn = z.infer<typeof Turn>;

export const ToolCall = z.object({ name: z.string().min(1), args: z.record(z.string(), z.unknown()).default({}) }).strict();
export type ToolCall = z.infer<typeof ToolCall>;

/** How argument values are compared, per tool: an openevals mode or the tool's own matcher (`tool`). */
export const ArgsMatch = z.enum(['exact', 'ignore', 'subset', 'superset', 'tool']);

/** Expectations checked on the last turn of the case (tools: on every turn's calls, in order). */
export const Expect = z
  .object({
    /** The tool calls of the whole case, in order. */
    tools: z.array(ToolCall).optional(),
    /** How `tools` is matched: openevals trajectory modes. */
    match: z.enum(['strict', 'unordered', 'subset', 'superset']).default('strict'),
    /** Per-tool argument comparison; tools not listed use their own matcher. */
    args: z.record(z.string(), ArgsMatch).default({}),
    /** Case-insensitive substrings the last answer must contain. */
    answerIncludes: z.array(z.string()).default([]),
    /** Tools that must never be called. */
    forbiddenTools: z.array(z.string()).default([]),
    /** Case-insensitive strings the last turn must not echo in its answer or tool arguments (canaries, attacker URLs). */
    forbiddenText: z.array(z.string()).default([]),
    /** The last turn's `done.reason`. */
    reason: z.enum(['stop', 'cancelled', 'length', 'error', 'interrupted']).default('stop'),
    /** Memory: this fact must be among the top `k` memories recalled for the last turn. */
    recall: z.object({ fact: z.string(), k: z.number().int().min(1).max(20).default(3) }).optional(),
  })
  .strict();

/** Per-case budgets: tool rounds, tokens and time to first token of every turn. */
export const Budget = z
  .object({
    maxToolRounds: z.number().int().min(0).optional(),
    maxTokens: z.number().int().min(1).optional(),
    maxTtftMs: z.number().int().min(1).optional(),
  })
  .strict();

export const EvalCase = z
  .object({
    id,
    suite: z.enum(SUITE_NAMES as [SuiteName, ...SuiteName[]]),
    description: z.string().optional(),
    tags: z.array(z.string()).default([]),
    turns: z.array(Turn).min(1).max(20),
    /** Memories stored before the case runs (another user's canary, an injected memory). */
    seedMemories: z.array(z.object({ user: z.string(), text: z.string().min(1) }).strict()).default([]),
    /** Output of the eval-only `fetch_page` tool (injection in tool output). */
    pageContent: z.string().optional(),
    expect: Expect.default({ match: 'strict', args: {}, answerIncludes: [], forbiddenTools: [], forbiddenText: [], reason: 'stop' }),
    reference: z.string().optional(),
    /** Judged suite: the metrics to judge the last answer on. @default all that apply */
    metrics: z.array(z.enum(['hallucination', 'toxicity', 'relevancy', 'helpfulness', 'conciseness', 'correctness'])).optional(),
    budget: Budget.optional(),
    /** Token budget of the agent's context for this case (trimming cases lower it). */
    contextTokens: z.number().int().min(50).max(100_000).optional(),
    /** Frames suite: cancel the last turn after its first token. */
    cancelAfterFirstToken: z.boolean().default(false),
    /** Models the case runs on (in process). */
    models: z.array(z.enum(['local', 'mock'])).default(['local', 'mock']),
  })
  .strict();
export type EvalCase = z.infer<typeof EvalCase>;

/** Parses JSONL text; `where` names the file in errors. Blank lines and `//` lines are skipped. */
export function parseJsonl<T>(text: string, schema: z.ZodType<T>, where: string): T[] {
  const out: T[] = [];
  text.split('\n').forEach((line, index) => {
    const trimmed = line.trim();
    if (!trimmed || trimmed.startsWith('//')) return;
    let value: unknown;
    try {
      value = JSON.parse(trimmed);
    } catch (error) {
      throw new EvalsError('bad_dataset', `${where}:${index + 1}: not JSON (${(error as Error).message})`);
    }
    const parsed = schema.safeParse(value);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new EvalsError('bad_dataset', `${where}:${index + 1}: ${issue.path.join('.') || '(case)'}: ${issue.message}`);
    }
    out.push(parsed.data);
  });
  return out;
}

/** Loads every `*.jsonl` in `dir` as cases; ids must be unique across files. */
export function loadCases(dir: string): EvalCase[] {
  const cases: EvalCase[] = [];
  const seen = new Set<string>();
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.jsonl')).sort()) {
    for (const c of parseJsonl(readFileSync(join(dir, file), 'utf8'), EvalCase, file)) {
      if (seen.has(c.id)) throw new EvalsError('bad_dataset', `${file}: duplicate case id "${c.id}"`);
      seen.add(c.id);
      cases.push(c);
    }
  }
  return cases;
}
