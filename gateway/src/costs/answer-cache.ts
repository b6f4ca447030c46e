/**
 * The exact answer cache: an answer stored under (user, prompt version, tier, normalized recent
 * context, normalized text), replayed as the same kinds of events a model run yields. Opt-in
 * (`ANSWER_CACHE=true`): only answers that used no tool or only pure tools are stored, so an
 * answer that read the clock or the user's memories is never served again.
 */
import { createHash } from 'node:crypto';
import type { AgentEvent } from '@switchboard/agent-core';

/** Tools whose result depends only on their input (safe to cache and to replay). */
export const PURE_TOOLS: ReadonlySet<string> = new Set(['calculator']);

/** Turns that ask for a tool with side effects or a time-dependent answer (memory, the clock): never answered from the semantic cache. */
export const SIDE_EFFECT_HINT = /\b(remember|forget|recall|memori[sz]e|note that|time|today|tomorrow|yesterday|date|now)\b/i;

/** What a cached run replays: its text pieces and tool calls in order, and the model that answered. */
export interface CachedAnswer {
  model: string;
  steps: Array<{ text: string } | { tool: { callId: string; name: string; input: unknown; output?: string; error?: string } }>;
}

/** Lower case, one space between words, no trailing punctuation: "Hello!!" and "hello" are one question. */
export function normalizeText(text: string): string {
  return text.toLowerCase().replace(/\s+/g, ' ').trim().replace(/[\s.!?…]+$/u, '');
}

/** The cache key: a hash, so no user text or id is readable in the store. */
export function answerKey(parts: { userId: string; promptVersion: string; tier: string; recent: string; text: string }): string {
  const h = createHash('sha256');
  h.update(JSON.stringify([parts.userId, parts.promptVersion, parts.tier, normalizeText(parts.recent), normalizeText(parts.text)]));
  return `answer:${h.digest('base64url')}`;
}

/** Collects a run's events into what the cache stores; `cacheable` is false once an impure tool ran. */
export class AnswerRecorder {
  readonly steps: CachedAnswer['steps'] = [];
  cacheable = true;

  add(event: AgentEvent): void {
    if (event.type === 'token') {
      const last = this.steps.at(-1);
      if (last && 'text' in last) last.text += event.text;
      else this.steps.push({ text: event.text });
    } else if (event.type === 'tool-start') {
      if (!PURE_TOOLS.has(event.name)) this.cacheable = false;
      this.steps.push({ tool: { callId: event.callId, name: event.name, input: event.input } });
    } else if (event.type === 'tool-end') {
      for (const step of this.steps) {
        if ('tool' in step && step.tool.callId === event.callId) Object.assign(step.tool, { output: event.output, error: event.error });
      }
      if (event.error !== undefined) this.cacheable = false;
    }
  }
}

/** The cached answer as agent events (text in word-sized pieces, like a model's stream), without `done`. */
export function* replay(answer: CachedAnswer): Generator<AgentEvent> {
  for (const step of answer.steps) {
    if ('text' in step) {
      for (const piece of step.text.match(/\S+\s*|\s+/g) ?? []) yield { type: 'token', text: piece };
    } else {
      const t = step.tool;
      yield { type: 'tool-start', callId: t.callId, name: t.name, input: t.input };
      yield { type: 'tool-end', callId: t.callId, name: t.name, ...(t.output === undefined ? {} : { output: t.output }), ...(t.error === undefined ? {} : { error: t.error }) };
    }
  }
}

/** Parses a stored entry; null when it is not one of ours (never throws). */
export function parseCached(json: string | null): CachedAnswer | null {
  if (json === null) return null;
  try {
    const value = JSON.parse(json) as CachedAnswer;
    return typeof value?.model === 'string' && Array.isArray(value.steps) ? value : null;
  } catch {
    return null;
  }
}
