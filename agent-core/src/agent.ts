import type { BaseChatModel } from '@langchain/core/language_models/chat_models';
import type { StructuredToolInterface } from '@langchain/core/tools';
import { convertToOpenAITool } from '@langchain/core/utils/function_calling';
import { MemorySaver } from '@langchain/langgraph';
import { AGENT_DEFAULTS, type AgentOptions, type AgentStreamInput } from './agent-options.js';
import { AgentError, AgentErrorCode, errorMessage, toAgentError } from './errors.js';
import type { AgentEvent, DoneEvent, DoneReason, TokenUsage } from './events.js';
import type { EngineDeps } from './engine.js';
import { createGraphEngine } from './graph.js';
import { createLoopEngine } from './loop.js';
import { ModelChain } from './models/model-chain.js';
import { loadPrompt, renderPrompt } from './prompts.js';
import { SignalQueue } from './signal-queue.js';
import type { AnswerStreamer, RunSignal } from './steps.js';
import { CHARS_PER_TOKEN } from './tokens.js';
import { calculatorTool } from './tools/calculator.js';
import { clockTool } from './tools/clock.js';

/** A conversational agent: one `stream()` call per user turn. */
export interface Agent {
  /**
   * Runs one turn. Yields tokens and tool events and always ends with exactly one `done` event;
   * it never throws (failures become an `error` event followed by `done{reason:'error'}`).
   */
  stream(input: AgentStreamInput): AsyncIterable<AgentEvent>;
}

const MAX_MEMORIES = 20;
const MAX_MEMORY_CHARS = 500;

function ownModelName(model: BaseChatModel): string {
  const named = model as unknown as { model?: unknown; modelName?: unknown };
  if (typeof named.model === 'string' && named.model !== '') return named.model;
  if (typeof named.modelName === 'string' && named.modelName !== '') return named.modelName;
  return model._llmType();
}

function toolRegistry(extra: readonly StructuredToolInterface[]): Map<string, StructuredToolInterface> {
  const registry = new Map<string, StructuredToolInterface>();
  for (const tool of [calculatorTool, clockTool, ...extra]) {
    if (registry.has(tool.name)) throw new AgentError(AgentErrorCode.Internal, `Duplicate tool name "${tool.name}"`);
    registry.set(tool.name, tool);
  }
  return registry;
}

/**
 * Runs `task` with a signal that fires when `signal` aborts or `ms` pass: one controller and
 * one timer per call (no AbortSignal.any or AbortSignal.timeout per run).
 */
function withTimeout<T>(task: (signal: AbortSignal) => Promise<T>, ms: number, signal: AbortSignal): Promise<T> {
  const limit = new AbortController();
  return new Promise<T>((resolve, reject) => {
    const cleanup = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
    };
    const onAbort = (): void => {
      cleanup();
      limit.abort(signal.reason);
      reject(new DOMException('Aborted', 'AbortError'));
    };
    const timer = setTimeout(() => {
      cleanup();
      limit.abort(new DOMException(`timed out after ${ms} ms`, 'TimeoutError'));
      reject(new Error(`timed out after ${ms} ms`));
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
    Promise.resolve()
      .then(() => task(limit.signal))
      .then(
        (value) => {
          cleanup();
          resolve(value);
        },
        (error: unknown) => {
          cleanup();
          reject(error);
        },
      );
  });
}

/**
 * The model chain's own streaming path, with the tools converted to OpenAI's format once per
 * process; undefined for other chat models (they stream through LangChain).
 */
function answerStreamer(model: BaseChatModel, tools: StructuredToolInterface[]): AnswerStreamer | undefined {
  if (!(model instanceof ModelChain)) return undefined;
  const openAITools = tools.map((tool) => convertToOpenAITool(tool));
  return {
    streamAnswer: (messages, options) => model.streamAnswer(messages, { ...options, tools: openAITools }),
  };
}

function validateInput(input: AgentStreamInput): void {
  for (const key of ['sessionId', 'userId', 'runId'] as const) {
    if (typeof input[key] !== 'string' || input[key] === '') {
      throw new AgentError(AgentErrorCode.Internal, `stream() needs a non-empty ${key}`);
    }
  }
  if (typeof input.text !== 'string') throw new AgentError(AgentErrorCode.Internal, 'stream() needs text');
}

/**
 * Creates the agent: model ⇄ tools, run by a plain loop (default) or a LangGraph StateGraph
 * (`engine`), with the built-in calculator and clock tools, context trimming, tool safety limits
 * and optional long-term memory hooks. Both engines keep the thread in the same checkpoints.
 *
 * @example
 * const agent = createAgent({ model: createLocalModel() });
 * for await (const event of agent.stream({ sessionId, userId, runId, text: 'What is 12*(3+4)?' })) {
 *   console.log(event);
 * }
 */
export function createAgent(options: AgentOptions): Agent {
  const settings = { ...AGENT_DEFAULTS, ...options };
  const { model, memory, logger } = settings;
  if (typeof model?.bindTools !== 'function') {
    throw new AgentError(AgentErrorCode.Internal, 'The agent needs a chat model that supports bindTools()');
  }
  const systemPrompt = settings.systemPrompt ?? loadPrompt('system');
  renderPrompt(systemPrompt, { memories: '', now: '' }); // fail fast on unknown placeholders
  const tools = toolRegistry(settings.tools ?? []);
  if (settings.wrapTool) for (const [name, tool] of tools) tools.set(name, settings.wrapTool(tool));
  const modelName = ownModelName(model);
  const deps: EngineDeps = {
    model: model.bindTools([...tools.values()]),
    answers: answerStreamer(model, [...tools.values()]),
    tools,
    checkpointer: settings.checkpointer ?? new MemorySaver(),
    systemPrompt,
    maxContextTokens: settings.maxContextTokens,
    maxToolRounds: settings.maxToolRounds,
    toolTimeoutMs: settings.toolTimeoutMs,
    maxToolOutputChars: settings.maxToolOutputChars,
    now: settings.now ?? (() => new Date()),
  };
  const durability = settings.durability ?? 'async';
  const engine = settings.engine === 'langgraph' ? createGraphEngine(deps, durability) : createLoopEngine(deps, durability);

  async function recallMemories(input: AgentStreamInput, signal: AbortSignal): Promise<string> {
    if (!memory) return '';
    try {
      const memories = await withTimeout((limit) => memory.recall(input.userId, input.text, limit), settings.recallTimeoutMs, signal);
      return memories
        .filter((m): m is string => typeof m === 'string' && m.trim() !== '')
        .slice(0, MAX_MEMORIES)
        .map((m) => `- ${m.trim().slice(0, MAX_MEMORY_CHARS)}`)
        .join('\n');
    } catch (error) {
      if (signal.aborted) throw error;
      logger?.warn('memory recall failed; running the turn without memories', { error: errorMessage(error), sessionId: input.sessionId });
      return '';
    }
  }

  function afterTurn(input: AgentStreamInput, answer: string): void {
    if (!memory?.afterTurn || answer === '') return;
    const report = (error: unknown): void =>
      logger?.warn('memory afterTurn hook failed', { error: errorMessage(error), sessionId: input.sessionId });
    try {
      const result: unknown = memory.afterTurn({ userId: input.userId, sessionId: input.sessionId, userText: input.text, answer });
      if (result instanceof Promise) result.catch(report);
    } catch (error) {
      report(error);
    }
  }

  async function* stream(input: AgentStreamInput): AsyncGenerator<AgentEvent> {
    const controller = new AbortController();
    const onAbort = (): void => controller.abort(input.signal?.reason);
    if (input.signal?.aborted) controller.abort(input.signal.reason);
    input.signal?.addEventListener('abort', onAbort, { once: true });

    let reason: DoneReason = 'stop';
    let failure: AgentError | undefined;
    let usage: TokenUsage | undefined;
    let model: string | undefined;
    let answer = '';
    let unfinishedChars = 0;
    const openCalls = new Map<string, string>();
    try {
      try {
        validateInput(input);
        controller.signal.throwIfAborted();
        const memoryContext = await recallMemories(input, controller.signal);
        // The steps write straight into this run's queue: no stream per token.
        const queue = new SignalQueue<RunSignal>();
        const onModelEvent = input.onModelEvent;
        const sink = (signal: RunSignal): void => {
          if (signal.type !== 'model-event') queue.push(signal);
          else onModelEvent?.(signal.event);
        };
        engine
          .run({ sessionId: input.sessionId, userId: input.userId, runId: input.runId, text: input.text, memoryContext }, sink, controller.signal)
          .then(
            () => queue.close(),
            (error: unknown) => queue.close({ error }),
          );
        while (!queue.done) {
          const signal = queue.take();
          if (signal === undefined) {
            await queue.wait();
          } else if (signal.type === 'token') {
            unfinishedChars += signal.text.length;
            yield signal;
          } else if (signal.type === 'tool') {
            if (signal.event.type === 'tool-start') openCalls.set(signal.event.callId, signal.event.name);
            else openCalls.delete(signal.event.callId);
            yield signal.event;
          } else if (signal.type === 'model-end') {
            usage = {
              inputTokens: (usage?.inputTokens ?? 0) + signal.usage.inputTokens,
              outputTokens: (usage?.outputTokens ?? 0) + signal.usage.outputTokens,
            };
            model = signal.model ?? model;
            answer = signal.text;
            unfinishedChars = 0;
          } else if (signal.type === 'limit') {
            reason = 'length';
          } else if (signal.type === 'model-start') {
            yield signal;
          }
        }
        if (controller.signal.aborted) reason = 'cancelled';
      } catch (error) {
        if (controller.signal.aborted) {
          reason = 'cancelled';
        } else {
          reason = 'error';
          failure = toAgentError(error, AgentErrorCode.Internal);
        }
      }
      if (unfinishedChars > 0) {
        usage = { inputTokens: usage?.inputTokens ?? 0, outputTokens: (usage?.outputTokens ?? 0) + Math.ceil(unfinishedChars / CHARS_PER_TOKEN) };
      }
      if (reason === 'cancelled') {
        for (const [callId, name] of openCalls) yield { type: 'tool-end', callId, name, error: 'cancelled' };
      }
      if (failure) yield { type: 'error', code: failure.code, message: failure.message, retryable: failure.retryable };
      const done: DoneEvent = { type: 'done', reason, model: model ?? modelName };
      if (usage) done.usage = usage;
      if (failure) done.error = { code: failure.code, message: failure.message };
      if (reason === 'stop') afterTurn(input, answer);
      yield done;
    } finally {
      input.signal?.removeEventListener('abort', onAbort);
      controller.abort(); // stops the run when the consumer leaves early
    }
  }

  return { stream };
}
