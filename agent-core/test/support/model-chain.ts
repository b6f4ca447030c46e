/** Helpers shared by the model chain's integration tests (not exported by the package). */
import type { AIMessageChunk } from '@langchain/core/messages';
import type { MockOpenAI } from '@switchboard/mock-llm';
import type { ModelClientKind } from '../../src/models/chat-client.js';
import { createModelChain, type ModelChain, type ModelChainOptions } from '../../src/models/model-chain.js';
import type { ModelSpec } from '../../src/models/model-spec.js';

/** Every client the chain can use: the chain's suites run once per client. */
export const MODEL_CLIENTS: readonly ModelClientKind[] = ['lean', 'langchain'];

/** `mockModel` and `mockChain` with every model on the given client. */
export function mockKit(mock: () => MockOpenAI, client: ModelClientKind) {
  return {
    model: (name: string, overrides: Partial<ModelSpec> = {}): ModelSpec => mockModel(mock(), name, { client, ...overrides }),
    chain: (models: Array<string | ModelSpec>, options: Partial<ModelChainOptions> = {}): ModelChain =>
      mockChain(mock(), models.map((m) => (typeof m === 'string' ? mockModel(mock(), m, { client }) : m)), options),
  };
}

/** A model on the mock with tiny delays so failure paths run in milliseconds. */
export function mockModel(mock: MockOpenAI, name: string, overrides: Partial<ModelSpec> = {}): ModelSpec {
  return {
    name,
    model: name,
    baseURL: mock.url,
    apiKey: 'test-key',
    firstTokenTimeoutMs: 2_000,
    idleTimeoutMs: 2_000,
    maxRetries: 2,
    retryBaseDelayMs: 5,
    retryMaxDelayMs: 20,
    maxRetryAfterMs: 2_000,
    breakerThreshold: 50,
    halfOpenAfterMs: 200,
    ...overrides,
  };
}

export function mockChain(
  mock: MockOpenAI,
  models: Array<string | ModelSpec>,
  options: Partial<ModelChainOptions> = {},
): ModelChain {
  return createModelChain({
    models: models.map((m) => (typeof m === 'string' ? mockModel(mock, m) : m)),
    totalBudgetMs: 10_000,
    ...options,
  });
}

/** Streams a runnable to the end; returns the chunks, or the error it threw. */
export async function collect(
  stream: Promise<AsyncIterable<AIMessageChunk>>,
): Promise<{ chunks: AIMessageChunk[]; text: string; error?: unknown }> {
  const chunks: AIMessageChunk[] = [];
  try {
    for await (const chunk of await stream) chunks.push(chunk);
    return { chunks, text: chunks.map((c) => c.text).join('') };
  } catch (error) {
    return { chunks, text: chunks.map((c) => c.text).join(''), error };
  }
}
