/**
 * The model provider chain: an ordered list of OpenAI-compatible models behind one LangChain
 * chat model. Per model: a client (`lean` node:http, or LangChain's ChatOpenAI), retries with
 * backoff (honouring Retry-After), first-token and idle timeouts, a circuit breaker. Falls back
 * to the next model while no token has been emitted. Two ways to stream: `stream()` (LangChain
 * chunks and callbacks) and `streamAnswer()` (text pieces to a callback, one answer at the end).
 */
import type { CallbackManagerForLLMRun } from '@langchain/core/callbacks/manager';
import type { BaseChatModelParams, BindToolsInput } from '@langchain/core/language_models/chat_models';
import { BaseChatModel } from '@langchain/core/language_models/chat_models';
import type { BaseLanguageModelInput } from '@langchain/core/language_models/base';
import type { AIMessageChunk, BaseMessage } from '@langchain/core/messages';
import type { ChatGenerationChunk, ChatResult } from '@langchain/core/outputs';
import type { Runnable } from '@langchain/core/runnables';
import { convertToOpenAITool } from '@langchain/core/utils/function_calling';
import { CircuitState } from 'cockatiel';
import { AnswerAssembler, ChunkSink, type CommitSink, type StreamedAnswer } from './answer.js';
import { AttemptError, classifyAttemptError } from './attempt-error.js';
import { runAttempt } from './attempt.js';
import type { ChatRequest } from './chat-client.js';
import type { ModelChainCallOptions } from './model-chain-options.js';
import { ModelUnavailableError, type ModelFailureSummary } from './errors.js';
import type { ModelChainEvent, ModelChainEventListener } from './events.js';
import type { ModelSpec } from './model-spec.js';
import { ModelSlot, type BreakerState } from './model-slot.js';

export type { ModelChainCallOptions } from './model-chain-options.js';

/** Options of {@link ModelChain.streamAnswer}. */
export interface StreamAnswerOptions {
  /** Tools in OpenAI's format (`convertToOpenAITool`); convert them once, not per call. @default none */
  tools?: ModelChainCallOptions['tools'];
  /** @default the provider's (`auto` when tools are given) */
  tool_choice?: ModelChainCallOptions['tool_choice'];
  /** Cancels the request (the HTTP request is aborted). */
  signal?: AbortSignal;
  /** Receives each text piece as it arrives, synchronously. */
  onText?: (text: string) => void;
  /**
   * Called once the chain committed to a model (its first token or tool call arrived, before that
   * piece goes to `onText`), with the model's configured name: the caller can price the answer
   * while it streams. Not called when no model answered.
   */
  onStart?: (model: string) => void;
  /**
   * Receives this request's events (attempts, first token, failures, retries, fallbacks, and a
   * breaker that changed state during one of its attempts) besides the chain's `onEvent`: the
   * caller learns which run they belong to without any async context. Must not throw.
   */
  onEvent?: ModelChainEventListener;
}

export interface ModelChainOptions {
  /** The models, in the order they are tried. At least one; names must be unique. */
  models: ModelSpec[];
  /** Time allowed, per request, from the start until the first token across all models. @default 45000 */
  totalBudgetMs?: number;
  /** Receives attempt, first-token, failure, retry, fallback and breaker events. Must not throw. */
  onEvent?: ModelChainEventListener;
}

export interface ModelChainStats {
  models: Array<{
    name: string;
    breaker: BreakerState;
    calls: number;
    failures: number;
    retries: number;
    fallbacksFrom: number;
    shortCircuited: number;
  }>;
  /** Requests that moved from one model to the next (each step counts). */
  fallbacks: number;
}

const chainDefaults = { totalBudgetMs: 45_000 } satisfies Omit<Required<ModelChainOptions>, 'models' | 'onEvent'>;

/** Rejects with the signal's reason as soon as it aborts. */
function abortable<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

export class ModelChain extends BaseChatModel<ModelChainCallOptions, AIMessageChunk> {
  private readonly slots: readonly ModelSlot[];
  private readonly totalBudgetMs: number;
  private readonly listener: ModelChainEventListener | undefined;
  private fallbackCount = 0;

  static override lc_name(): string {
    return 'ModelChain';
  }

  constructor(options: ModelChainOptions, params: BaseChatModelParams = {}) {
    super(params);
    if (options.models.length === 0) throw new TypeError('createModelChain: at least one model is required');
    const names = new Set(options.models.map((m) => m.name));
    if (names.size !== options.models.length) throw new TypeError('createModelChain: model names must be unique');
    this.totalBudgetMs = options.totalBudgetMs ?? chainDefaults.totalBudgetMs;
    this.listener = options.onEvent;
    const emit = (event: ModelChainEvent): void => this.emit(event);
    this.slots = Object.freeze(options.models.map((spec) => new ModelSlot(spec, emit)));
  }

  _llmType(): string {
    return 'model-chain';
  }

  private emit(event: ModelChainEvent): void {
    try {
      this.listener?.(event);
    } catch {
      // A faulty listener must not break a run.
    }
  }

  /** The chain's listener, then the request's own (when it has one). */
  private emitterFor(request: ModelChainEventListener | undefined): (event: ModelChainEvent) => void {
    if (!request) return (event) => this.emit(event);
    return (event) => {
      this.emit(event);
      try {
        request(event);
      } catch {
        // A faulty listener must not break a run.
      }
    };
  }

  /** Breaker states and counters, per model in chain order. */
  stats(): ModelChainStats {
    return {
      models: this.slots.map((slot) => ({ name: slot.name, breaker: slot.breakerState, ...slot.counters })),
      fallbacks: this.fallbackCount,
    };
  }

  /**
   * Binds tools for every model of the chain: they travel in the call options, so whichever
   * model answers (after retries or fallbacks) receives them.
   */
  override bindTools(
    tools: BindToolsInput[],
    kwargs?: Partial<ModelChainCallOptions>,
  ): Runnable<BaseLanguageModelInput, AIMessageChunk, ModelChainCallOptions> {
    return this.withConfig({ tools: tools.map((tool) => convertToOpenAITool(tool)), ...kwargs } as Partial<ModelChainCallOptions>);
  }

  async _generate(
    messages: BaseMessage[],
    options: this['ParsedCallOptions'],
    runManager?: CallbackManagerForLLMRun,
  ): Promise<ChatResult> {
    let aggregate: ChatGenerationChunk | undefined;
    for await (const chunk of this._streamResponseChunks(messages, options, runManager)) {
      aggregate = aggregate ? aggregate.concat(chunk) : chunk;
    }
    if (!aggregate) throw new ModelUnavailableError({ message: 'empty answer', afterFirstToken: false, failures: [] });
    return { generations: [aggregate] };
  }

  override async *_streamResponseChunks(
    messages: BaseMessage[],
    options: this['ParsedCallOptions'],
    runManager?: CallbackManagerForLLMRun,
  ): AsyncGenerator<ChatGenerationChunk> {
    const queue: ChatGenerationChunk[] = [];
    let head = 0;
    let wake: (() => void) | undefined;
    let finished = false;
    let failure: unknown;
    const sink = new ChunkSink((chunk) => {
      queue.push(chunk);
      wake?.();
    });
    // The consumer may stop early: then the request is cancelled without blaming the model.
    const left = new AbortController();
    const caller = options.signal;
    const onCallerAbort = (): void => left.abort(caller?.reason);
    if (caller?.aborted) onCallerAbort();
    caller?.addEventListener('abort', onCallerAbort, { once: true });
    this.run({ messages, options }, left.signal, sink).then(
      () => {
        finished = true;
        wake?.();
      },
      (err: unknown) => {
        failure = err;
        finished = true;
        wake?.();
      },
    );
    try {
      for (;;) {
        while (head < queue.length) {
          const chunk = queue[head++];
          yield chunk;
          await runManager?.handleLLMNewToken(chunk.text, { prompt: 0, completion: 0 }, undefined, undefined, undefined, { chunk });
        }
        if (finished) break;
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
        wake = undefined;
      }
      if (failure !== undefined) throw failure;
    } finally {
      caller?.removeEventListener('abort', onCallerAbort);
      if (!finished) left.abort(new DOMException('The consumer stopped reading', 'AbortError'));
    }
  }

  /**
   * Streams one answer without LangChain's chunk objects and callbacks: `onText` receives each
   * text piece as it arrives, and the answer (text, tool calls with their raw JSON arguments,
   * usage) is assembled once at the end. Same retries, timeouts, breakers and fallbacks as
   * `stream()`. Rejects with `ModelUnavailableError`, or the signal's reason when aborted.
   * @example
   * const answer = await chain.streamAnswer(messages, { tools, signal, onText: (t) => process.stdout.write(t) });
   */
  async streamAnswer(messages: BaseMessage[], options: StreamAnswerOptions = {}): Promise<StreamedAnswer> {
    const assembler = new AnswerAssembler(options.onText, options.onStart);
    const request: ChatRequest = { messages, options: { tools: options.tools, tool_choice: options.tool_choice } };
    await this.run(request, options.signal, assembler, options.onEvent);
    return assembler.answer();
  }

  /** Tries the models in order; falls back while no token went out to `sink`. */
  private async run(request: ChatRequest, signal: AbortSignal | undefined, sink: CommitSink, onEvent?: ModelChainEventListener): Promise<void> {
    const emit = this.emitterFor(onEvent);
    const deadline = Date.now() + this.totalBudgetMs;
    const failures: ModelFailureSummary[] = [];
    let retryAfterMs: number | undefined;
    for (let i = 0; i < this.slots.length; i++) {
      const slot = this.slots[i];
      const isLast = i === this.slots.length - 1;
      signal?.throwIfAborted();
      let emitted = false;
      try {
        if (Date.now() >= deadline) {
          throw new AttemptError({ kind: 'budget_exhausted', message: `time budget of ${this.totalBudgetMs}ms used up`, retryable: false, countsForBreaker: false });
        }
        // A half-open breaker lets one trial through; other requests move on instead of queueing behind it.
        if (!isLast && slot.breaker.state === CircuitState.HalfOpen) {
          throw new AttemptError({ kind: 'circuit_open', message: 'circuit breaker half-open (trial in flight)', retryable: false, countsForBreaker: false });
        }
        await this.runOnSlot(slot, request, signal, deadline, sink, emit, onEvent, () => {
          emitted = true;
          sink.commit(slot.name);
        });
        return;
      } catch (err) {
        if (signal?.aborted) throw signal.reason;
        const failure = classifyAttemptError(err);
        if (emitted || failure.afterFirstToken) {
          throw new ModelUnavailableError({
            message: `model "${slot.name}" failed after the first token: ${failure.message}`,
            afterFirstToken: true,
            failures: [...failures, failure.summary(slot.name)],
            cause: err,
          });
        }
        if (failure.kind === 'circuit_open') slot.counters.shortCircuited++;
        failures.push(failure.summary(slot.name));
        if (failure.retryAfterMs !== undefined) retryAfterMs = Math.min(retryAfterMs ?? Infinity, failure.retryAfterMs);
        if (!isLast) {
          this.fallbackCount++;
          slot.counters.fallbacksFrom++;
          emit({ type: 'fallback', from: slot.name, to: this.slots[i + 1].name, reason: failure.kind });
        }
      }
    }
    throw new ModelUnavailableError({
      message: `no model answered: ${failures.map((f) => `${f.model}: ${f.message}`).join('; ')}`,
      afterFirstToken: false,
      failures,
      retryAfterMs,
    });
  }

  /**
   * Runs one model under retry (per request) and its shared breaker. The breaker's execution
   * spans the whole stream, so a stream that breaks mid-way counts against the model too.
   */
  private async runOnSlot(
    slot: ModelSlot,
    request: ChatRequest,
    signal: AbortSignal | undefined,
    deadline: number,
    sink: CommitSink,
    emit: (event: ModelChainEvent) => void,
    requestListener: ModelChainEventListener | undefined,
    onCommit: () => void,
  ): Promise<void> {
    let attempt = 0;
    const breakerBefore = slot.breakerState;
    const run = slot.retryPolicy(deadline, signal, emit).execute(() => {
      signal?.throwIfAborted();
      return slot.breaker.execute(async () => {
        attempt++;
        slot.counters.calls++;
        emit({ type: 'attempt', model: slot.name, attempt });
        const startedAt = performance.now();
        try {
          await runAttempt(slot.client, request, sink, {
            firstTokenTimeoutMs: Math.min(slot.spec.firstTokenTimeoutMs, deadline - Date.now()),
            idleTimeoutMs: slot.spec.idleTimeoutMs,
            signal,
            onFirstToken: () => {
              emit({ type: 'first-token', model: slot.name, attempt, latencyMs: performance.now() - startedAt });
              onCommit();
            },
          });
        } catch (err) {
          if (signal?.aborted) throw err;
          const failure = classifyAttemptError(err);
          this.recordFailure(slot, failure, emit);
          throw failure;
        }
      });
    });
    try {
      await abortable(run, signal);
    } finally {
      // The slot reports its breaker to the chain's listener; the request's learns of a change here.
      const breakerAfter = slot.breakerState;
      if (requestListener && breakerAfter !== breakerBefore) {
        try {
          requestListener({ type: 'breaker', model: slot.name, state: breakerAfter });
        } catch {
          // A faulty listener must not break a run.
        }
      }
    }
  }

  private recordFailure(slot: ModelSlot, failure: AttemptError, emit: (event: ModelChainEvent) => void): void {
    slot.counters.failures++;
    emit({
      type: 'failure',
      model: slot.name,
      reason: failure.kind,
      status: failure.status,
      afterFirstToken: failure.afterFirstToken,
      message: failure.message,
    });
  }
}

/**
 * Creates the model chain. Create it once per process: breaker state lives in it.
 * @example
 * const chain = createModelChain({ models: [
 *   { name: 'primary', model: 'gpt-4o-mini', baseURL: 'https://api.openai.com/v1', apiKey },
 *   { name: 'backup', model: 'llama3.1', baseURL: 'http://127.0.0.1:11434/v1' },
 * ] });
 * const withTools = chain.bindTools([calculator]);
 * for await (const chunk of await withTools.stream('2+2?', { signal })) { ... }
 */
export function createModelChain(options: ModelChainOptions): ModelChain {
  return new ModelChain(options);
}
