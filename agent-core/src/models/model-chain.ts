/**
 * The model provider chain: an ordered list of OpenAI-compatible models behind one LangChain
 * chat model. Per model: retries with backoff (honouring Retry-After), first-token and idle
 * timeouts, a circuit breaker. Falls back to the next model while no token has been emitted.
 */
import type { CallbackManagerForLLMRun } from '@langchain/core/callbacks/manager';
import type { BaseChatModelParams, BindToolsInput } from '@langchain/core/language_models/chat_models';
import { BaseChatModel } from '@langchain/core/language_models/chat_models';
import type { BaseLanguageModelInput } from '@langchain/core/language_models/base';
import type { AIMessageChunk, BaseMessage } from '@langchain/core/messages';
import type { ChatGenerationChunk, ChatResult } from '@langchain/core/outputs';
import type { Runnable } from '@langchain/core/runnables';
import { convertToOpenAITool } from '@langchain/core/utils/function_calling';
import type { ChatOpenAICallOptions } from '@langchain/openai';
import { CircuitState } from 'cockatiel';
import { AttemptError, classifyAttemptError } from './attempt-error.js';
import { openUntilFirstToken, streamRest, type OpenStream } from './attempt.js';
import { ModelUnavailableError, type ModelFailureSummary } from './errors.js';
import type { ModelChainEvent, ModelChainEventListener } from './events.js';
import type { ModelSpec } from './model-spec.js';
import { ModelSlot, type BreakerState } from './model-slot.js';

/** Call options: those of ChatOpenAI (tools, tool_choice, stop, signal, …). */
export type ModelChainCallOptions = ChatOpenAICallOptions;

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

interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(reason: unknown): void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (reason: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.catch(() => undefined);
  return { promise, resolve, reject };
}

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
    const signal = options.signal;
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
        let first = true;
        for await (const chunk of this.streamFromSlot(slot, messages, options, deadline)) {
          emitted = true;
          // The provider's own model id would be concatenated with ours when chunks merge.
          if (chunk.generationInfo?.model_name !== undefined) {
            const { model_name: _providerModel, ...info } = chunk.generationInfo;
            chunk.generationInfo = info;
          }
          if (first) {
            first = false;
            chunk.message.response_metadata = { ...chunk.message.response_metadata, model_name: slot.name };
          }
          yield chunk;
          await runManager?.handleLLMNewToken(chunk.text, { prompt: 0, completion: 0 }, undefined, undefined, undefined, { chunk });
        }
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
          this.emit({ type: 'fallback', from: slot.name, to: this.slots[i + 1].name, reason: failure.kind });
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
  private async *streamFromSlot(
    slot: ModelSlot,
    messages: BaseMessage[],
    options: this['ParsedCallOptions'],
    deadline: number,
  ): AsyncGenerator<ChatGenerationChunk> {
    const signal = options.signal;
    const started = deferred<OpenStream>();
    const finished = deferred<void>();
    let attempt = 0;
    const run = slot.retryPolicy(deadline, signal).execute(() => {
      signal?.throwIfAborted();
      return slot.breaker.execute(async () => {
        attempt++;
        slot.counters.calls++;
        this.emit({ type: 'attempt', model: slot.name, attempt });
        const startedAt = performance.now();
        let open: OpenStream;
        try {
          const budgetLeft = deadline - Date.now();
          open = await openUntilFirstToken(slot.client, messages, options, Math.min(slot.spec.firstTokenTimeoutMs, budgetLeft));
        } catch (err) {
          if (!signal?.aborted) this.recordFailure(slot, classifyAttemptError(err));
          throw err;
        }
        this.emit({ type: 'first-token', model: slot.name, attempt, latencyMs: performance.now() - startedAt });
        started.resolve(open);
        await finished.promise;
      });
    });
    run.catch((err: unknown) => started.reject(err));

    const open = await abortable(started.promise, signal);
    let settled = false;
    try {
      yield* streamRest(open, slot.spec.idleTimeoutMs, signal);
      settled = true;
      finished.resolve();
    } catch (err) {
      settled = true;
      if (signal?.aborted) {
        finished.resolve();
        throw err;
      }
      const failure = classifyAttemptError(err).afterToken();
      this.recordFailure(slot, failure);
      finished.reject(failure);
      await run.catch(() => undefined);
      throw failure;
    } finally {
      // The consumer stopped early: the model did nothing wrong.
      if (!settled) finished.resolve();
      open.close();
    }
  }

  private recordFailure(slot: ModelSlot, failure: AttemptError): void {
    slot.counters.failures++;
    this.emit({
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
