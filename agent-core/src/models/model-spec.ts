import type { ModelClientKind } from './chat-client.js';

/** One OpenAI-compatible model of the chain, with its resilience options. */
export interface ModelSpec {
  /** Configured name: shown in `done.model`, stats, events and metrics. Unique in a chain. */
  name: string;
  /** The provider's model id sent as `model` (e.g. `gpt-4o-mini`). */
  model: string;
  /** OpenAI-compatible base URL including `/v1`. @default the OpenAI API */
  baseURL?: string;
  /** API key. @default 'unused' (for local servers that need none) */
  apiKey?: string;
  /** Time allowed from sending the request to the first token. @default 15000 */
  firstTokenTimeoutMs?: number;
  /** Time allowed between two chunks once streaming. @default 30000 */
  idleTimeoutMs?: number;
  /** Retries on this model (so attempts = maxRetries + 1) before falling back. @default 2 */
  maxRetries?: number;
  /** First backoff delay; doubles per retry, with jitter (×0.5–1). @default 200 */
  retryBaseDelayMs?: number;
  /** Largest backoff delay. @default 4000 */
  retryMaxDelayMs?: number;
  /**
   * Longest `Retry-After` honoured. A provider asking for longer is not retried (the chain
   * falls back at once instead of retrying earlier than asked). @default 10000
   */
  maxRetryAfterMs?: number;
  /** Consecutive failures that open the circuit breaker. @default 5 */
  breakerThreshold?: number;
  /** How long the breaker stays open before one trial request (half-open). @default 30000 */
  halfOpenAfterMs?: number;
  /** Extra HTTP headers sent with every request to this model. @default {} */
  headers?: Record<string, string>;
  /** Sampling temperature. @default the provider's */
  temperature?: number;
  /** Cap on output tokens. @default the provider's */
  maxTokens?: number;
  /**
   * The HTTP client: `lean` (node:http with its own SSE parser; about a third of the CPU per
   * token) or `langchain` (LangChain's `ChatOpenAI` on the `openai` SDK).
   * @default 'lean'
   */
  client?: ModelClientKind;
  /** Price of 1,000 input (prompt) tokens, in `currency`. @default 0 (unpriced) */
  inputPricePer1k?: number;
  /** Price of 1,000 output (completion) tokens, in `currency`. @default 0 (unpriced) */
  outputPricePer1k?: number;
  /** Currency of the prices; only `USD` (every figure is reported as `costUsd`). @default 'USD' */
  currency?: 'USD';
}

/** A model tier: its own fallback chain (own retries and breakers) and output cap. */
export interface TierSpec {
  /** `fast`, `smart`, …: shown in `done.tier` and the routing metrics. */
  name: string;
  /** The tier's chain, in the order tried; each model's `maxTokens` already capped by the tier's. */
  models: ModelSpec[];
  /** Cap on output tokens of each request of this tier (the tier's, else `LLM_MAX_OUTPUT_TOKENS`). */
  maxOutputTokens?: number;
}

export type ResolvedModelSpec = Required<
  Omit<ModelSpec, 'baseURL' | 'temperature' | 'maxTokens' | 'headers' | 'inputPricePer1k' | 'outputPricePer1k' | 'currency'>
> &
  Pick<ModelSpec, 'baseURL' | 'temperature' | 'maxTokens' | 'headers' | 'inputPricePer1k' | 'outputPricePer1k' | 'currency'>;

export const modelSpecDefaults = {
  apiKey: 'unused',
  firstTokenTimeoutMs: 15_000,
  idleTimeoutMs: 30_000,
  maxRetries: 2,
  retryBaseDelayMs: 200,
  retryMaxDelayMs: 4_000,
  maxRetryAfterMs: 10_000,
  breakerThreshold: 5,
  halfOpenAfterMs: 30_000,
  client: 'lean',
} satisfies Omit<ResolvedModelSpec, 'name' | 'model'>;

export function resolveModelSpec(spec: ModelSpec): ResolvedModelSpec {
  const out = { ...modelSpecDefaults } as ResolvedModelSpec;
  for (const [key, value] of Object.entries(spec)) {
    if (value !== undefined) (out as unknown as Record<string, unknown>)[key] = value;
  }
  return out;
}
