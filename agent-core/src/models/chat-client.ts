/**
 * What the chain needs from a model client: start one streaming request and push what arrives
 * into a sink, with a way to cancel it. Two implementations: the lean node:http client
 * (`lean-client.ts`) and LangChain's ChatOpenAI (`langchain-client.ts`).
 */
import type { BaseMessage } from '@langchain/core/messages';
import type { ModelChainCallOptions } from './model-chain-options.js';

/** Which client talks to a model. */
export const ModelClientKind = {
  /** node:http with a hand-written SSE parser; tokens go straight to the caller. */
  lean: 'lean',
  /** LangChain's `ChatOpenAI` (on the `openai` SDK). */
  langchain: 'langchain',
} as const;
export type ModelClientKind = (typeof ModelClientKind)[keyof typeof ModelClientKind];

/**
 * Receives one answer as it streams. Called synchronously by the client, once per piece;
 * `text` is the hot path (one call per token, no objects).
 */
export interface AnswerSink {
  text(text: string): void;
  /** A piece of tool call `index`: its id and name (usually in the first piece) and an arguments fragment. */
  toolCall(index: number, id: string | undefined, name: string | undefined, args: string | undefined): void;
  usage(inputTokens: number, outputTokens: number): void;
  finish(reason: string): void;
}

/** A sink that also learns how the request ended. */
export interface StreamSink extends AnswerSink {
  /** The stream ended normally. */
  end(): void;
  /** The request failed (HTTP status, network, malformed data…). Not called after `cancel`. */
  error(err: unknown): void;
}

/** One request: messages plus the call options that reach the provider (tools, tool_choice, stop). */
export interface ChatRequest {
  messages: BaseMessage[];
  options: Pick<ModelChainCallOptions, 'tools' | 'tool_choice' | 'stop' | 'parallel_tool_calls'>;
}

export interface ChatClient {
  /** Sends the request; returns a cancel function that aborts the HTTP request (no sink call follows). */
  start(request: ChatRequest, sink: StreamSink): (reason?: unknown) => void;
}

/** An HTTP error answer of the provider, shaped like the SDK's errors for the classifier. */
export class HttpStatusError extends Error {
  constructor(
    readonly status: number,
    readonly headers: Record<string, string | string[] | undefined>,
    message: string,
  ) {
    super(message);
    this.name = 'HttpStatusError';
  }
}

/** A connection that failed mid-way, with a network error code for the classifier. */
export class StreamConnectionError extends Error {
  readonly code = 'ECONNRESET';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StreamConnectionError';
  }
}
