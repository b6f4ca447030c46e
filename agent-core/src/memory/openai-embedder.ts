/** An embedder on any OpenAI-compatible `/v1/embeddings` endpoint (OpenAI, vLLM, Ollama, …). */
import type { Embedder } from './types.js';

/** Options of {@link createOpenAIEmbedder}. */
export interface OpenAIEmbedderOptions {
  /**
   * Base URL up to and including the API version; `/embeddings` is appended.
   * @default 'https://api.openai.com/v1'
   */
  baseURL?: string;
  /** Sent as `Authorization: Bearer`; omitted when empty (local servers). */
  apiKey?: string;
  /** @default 'text-embedding-3-small' */
  model?: string;
  /**
   * Vector size; sent as `dimensions` and checked on every answer.
   * @default 1536
   */
  dims?: number;
  /**
   * Per-request time limit in milliseconds.
   * @default 10000
   */
  timeoutMs?: number;
  /**
   * Texts per request.
   * @default 64
   */
  batchSize?: number;
  /** @default globalThis.fetch */
  fetch?: typeof fetch;
}

/** An embeddings request failed or answered something unusable. */
export class EmbeddingError extends Error {
  override readonly name = 'EmbeddingError';
  readonly code = 'embedding_failed';
  constructor(
    message: string,
    readonly status?: number,
    options: { cause?: unknown } = {},
  ) {
    super(message, { cause: options.cause });
  }
}

interface EmbeddingsResponse {
  data?: Array<{ index?: number; embedding?: unknown }>;
}

/**
 * Creates an embedder for an OpenAI-compatible endpoint.
 *
 * @example
 * const embedder = createOpenAIEmbedder({ baseURL: 'http://127.0.0.1:8000/v1', model: 'bge-small', dims: 384 });
 */
export function createOpenAIEmbedder(options: OpenAIEmbedderOptions = {}): Embedder {
  const baseURL = (options.baseURL ?? 'https://api.openai.com/v1').replace(/\/+$/, '');
  const model = options.model ?? 'text-embedding-3-small';
  const dims = options.dims ?? 1536;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const batchSize = options.batchSize ?? 64;
  const doFetch = options.fetch ?? globalThis.fetch;

  async function request(input: string[], signal?: AbortSignal): Promise<number[][]> {
    const timeout = AbortSignal.timeout(timeoutMs);
    const combined = signal ? AbortSignal.any([signal, timeout]) : timeout;
    let response: Response;
    try {
      response = await doFetch(`${baseURL}/embeddings`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : {}),
        },
        body: JSON.stringify({ model, input, dimensions: dims, encoding_format: 'float' }),
        signal: combined,
      });
    } catch (error) {
      throw new EmbeddingError(`embeddings request failed: ${(error as Error).message}`, undefined, { cause: error });
    }
    if (!response.ok) {
      const detail = (await response.text().catch(() => '')).slice(0, 200);
      throw new EmbeddingError(`embeddings endpoint answered ${response.status}${detail ? `: ${detail}` : ''}`, response.status);
    }
    const body = (await response.json().catch(() => ({}))) as EmbeddingsResponse;
    const data = Array.isArray(body.data) ? body.data : [];
    if (data.length !== input.length) throw new EmbeddingError(`expected ${input.length} embeddings, got ${data.length}`);
    const out = new Array<number[]>(input.length);
    data.forEach((item, i) => {
      const e = item.embedding;
      if (!Array.isArray(e) || e.length !== dims || !e.every((x) => typeof x === 'number' && Number.isFinite(x))) {
        throw new EmbeddingError(`embedding ${i} is not ${dims} finite numbers`);
      }
      out[typeof item.index === 'number' ? item.index : i] = e as number[];
    });
    if (out.some((e) => e === undefined)) throw new EmbeddingError('embeddings response has duplicate indexes');
    return out;
  }

  return {
    dims,
    async embed(texts, signal) {
      const result: number[][] = [];
      for (let i = 0; i < texts.length; i += batchSize) result.push(...(await request(texts.slice(i, i + batchSize), signal)));
      return result;
    },
  };
}
