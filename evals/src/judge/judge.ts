/**
 * Judges: the model judge (openevals' LLM-as-judge over any OpenAI-compatible endpoint), its
 * recorded replay for CI, and the rule judge. Every verdict is validated by zod; a judge that
 * errs or answers out of shape yields an error outcome, never a score.
 */
import OpenAI from 'openai';
import { createLLMAsJudge } from 'openevals';
import { EvalsError } from '../errors.js';
import { METRIC_SPECS, promptVersion, recordingKey, Verdict, VERDICT_JSON_SCHEMA, type JudgeInput, type JudgeMetric } from './metrics.js';
import type { RecordingStore } from './recordings.js';
import { ruleVerdict } from './rules.js';

/** A judged score, a judge failure (reported, never scored) or a missing recording. */
export type JudgeOutcome =
  | { kind: 'score'; score: number; reasoning: string; repetitions: number; spread: number }
  | { kind: 'error'; error: string }
  | { kind: 'missing'; key: string };

export interface Judge {
  /** Shown in reports, e.g. `recorded:mock-judge`, `rules`, `gpt-4o-mini`. */
  readonly label: string;
  judge(metric: JudgeMetric, input: JudgeInput): Promise<JudgeOutcome>;
}

/** The OpenAI-shaped client openevals calls: `chat.completions.create(params)`. */
interface ChatClient {
  chat: { completions: { create(params: Record<string, unknown>): Promise<{ choices: Array<{ message: { role: 'assistant'; content: string | null } }> }> } };
}

/** Runs one openevals LLM-as-judge call through `client`, returning the judge's raw answer text. */
async function askOnce(client: ChatClient, model: string, metric: JudgeMetric, input: JudgeInput): Promise<string> {
  let raw = '';
  const capture: ChatClient = {
    chat: {
      completions: {
        create: async (params) => {
          const response = await client.chat.completions.create(params);
          raw = response.choices[0]?.message.content ?? '';
          return response;
        },
      },
    },
  };
  const spec = METRIC_SPECS[metric];
  const evaluator = createLLMAsJudge({
    prompt: spec.prompt,
    system: spec.system,
    judge: capture,
    model,
    continuous: true,
    outputSchema: VERDICT_JSON_SCHEMA as unknown as Record<string, unknown>,
  });
  await evaluator({
    inputs: input.inputs,
    outputs: input.outputs,
    context: input.context ?? '(none)',
    reference_outputs: input.reference ?? '(none)',
  });
  return raw;
}

/** Validates raw answers and folds repetitions into one outcome. */
export function verdictOutcome(contents: string[]): JudgeOutcome {
  const verdicts: Verdict[] = [];
  for (const content of contents) {
    let value: unknown;
    try {
      value = JSON.parse(content);
    } catch {
      return { kind: 'error', error: `judge answer is not JSON: ${content.slice(0, 120)}` };
    }
    const parsed = Verdict.safeParse(value);
    if (!parsed.success) return { kind: 'error', error: `judge answer out of shape: ${parsed.error.issues[0]?.message ?? 'invalid'}` };
    verdicts.push(parsed.data);
  }
  const scores = verdicts.map((v) => v.score);
  const mean = scores.reduce((a, b) => a + b, 0) / scores.length;
  return { kind: 'score', score: mean, reasoning: verdicts[0].reasoning, repetitions: scores.length, spread: Math.max(...scores) - Math.min(...scores) };
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export interface ModelJudgeOptions {
  model: string;
  baseURL: string;
  apiKey: string;
  /** Verdicts per item, averaged (their spread is reported). @default 1 */
  repetitions?: number;
  /** When set, every answer is stored here (recording mode). */
  record?: { store: RecordingStore; source: string };
  /** Extra request headers per call (the mock server is scripted through one). */
  headers?: (metric: JudgeMetric, input: JudgeInput) => Record<string, string>;
}

/**
 * A judge model behind any OpenAI-compatible endpoint.
 * @example
 * const judge = createModelJudge({ model: 'gpt-4o-mini', baseURL: 'https://…/v1', apiKey });
 */
export function createModelJudge(options: ModelJudgeOptions): Judge {
  const openai = new OpenAI({ baseURL: options.baseURL, apiKey: options.apiKey, maxRetries: 2, timeout: 60_000 });
  const repetitions = Math.max(1, options.repetitions ?? 1);
  return {
    label: options.model,
    async judge(metric, input) {
      const headers = options.headers?.(metric, input);
      const client: ChatClient = {
        chat: {
          completions: {
            create: async (params) => {
              const response = await openai.chat.completions.create(params as unknown as OpenAI.ChatCompletionCreateParamsNonStreaming, headers ? { headers } : undefined);
              return { choices: response.choices.map((c) => ({ message: { role: 'assistant' as const, content: c.message.content } })) };
            },
          },
        },
      };
      const contents: string[] = [];
      try {
        for (let i = 0; i < repetitions; i += 1) contents.push(await askOnce(client, options.model, metric, input));
      } catch (error) {
        return { kind: 'error', error: `judge failed: ${message(error)}` };
      }
      const outcome = verdictOutcome(contents);
      if (outcome.kind === 'score' && options.record) {
        const key = recordingKey(options.model, metric, input);
        options.record.store.put({ key, model: options.model, metric, promptVersion: promptVersion(metric), source: options.record.source, contents });
      }
      return outcome;
    },
  };
}

/**
 * Replays recorded answers of `model` through the same openevals path; an input without a
 * recording is reported as missing (the run fails and says how to record it).
 */
export function createRecordedJudge(options: { model: string; store: RecordingStore }): Judge {
  return {
    label: `recorded:${options.model}`,
    async judge(metric, input) {
      const key = recordingKey(options.model, metric, input);
      const recording = options.store.get(key);
      if (!recording) return { kind: 'missing', key };
      const queue = [...recording.contents];
      const client: ChatClient = {
        chat: {
          completions: {
            create: async () => {
              const content = queue.shift();
              if (content === undefined) throw new EvalsError('missing_recording', `recording ${key} has too few answers`);
              return { choices: [{ message: { role: 'assistant' as const, content } }] };
            },
          },
        },
      };
      const contents: string[] = [];
      try {
        for (let i = 0; i < recording.contents.length; i += 1) contents.push(await askOnce(client, options.model, metric, input));
      } catch (error) {
        return { kind: 'error', error: message(error) };
      }
      return verdictOutcome(contents);
    },
  };
}

/** The rule judge (no model). */
export function createRuleJudge(): Judge {
  return {
    label: 'rules',
    async judge(metric, input) {
      const v = ruleVerdict(metric, input);
      return { kind: 'score', score: v.score, reasoning: v.reasoning, repetitions: 1, spread: 0 };
    },
  };
}

/** Headers that script the mock server to answer with the rule judge's verdict as JSON. */
export function ruleVerdictHeaders(metric: JudgeMetric, input: JudgeInput): Record<string, string> {
  return { 'x-mock-scenario': JSON.stringify({ text: JSON.stringify(ruleVerdict(metric, input)) }) };
}
