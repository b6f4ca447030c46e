/**
 * What one step of a run does, whichever engine runs it: the model step (system prompt, trimming,
 * the answer streamed, pruning of turns outside the window) and the tools step (the tool-round
 * cap, then the tool calls). The LangGraph nodes and the plain loop both call these with the
 * run's signal and a sink for its signals.
 */
import { randomUUID } from 'node:crypto';
import type { Runnable, RunnableConfig } from '@langchain/core/runnables';
import type { BaseLanguageModelInput } from '@langchain/core/language_models/base';
import { AIMessage, AIMessageChunk, type BaseMessage, RemoveMessage, SystemMessage, ToolMessage } from '@langchain/core/messages';
import type { StructuredToolInterface } from '@langchain/core/tools';
import { AgentError, AgentErrorCode, toAgentError } from './errors.js';
import type { ModelStartEvent, TokenEvent, TokenUsage, ToolEndEvent, ToolStartEvent } from './events.js';
import type { StreamedAnswer } from './models/answer.js';
import type { ModelChainEvent } from './models/events.js';
import { renderPrompt } from './prompts.js';
import { runToolCalls, type ToolCallRequest } from './tool-runner.js';
import { contentText, estimateMessagesTokens, estimateTextTokens } from './tokens.js';
import { trimMessagesToBudget } from './trim.js';

/**
 * What a run's steps report; the agent turns these into AgentEvents. A token is already the
 * AgentEvent it becomes (one object per token).
 */
export type RunSignal =
  | TokenEvent
  | { type: 'tool'; event: ToolStartEvent | ToolEndEvent }
  | { type: 'model-end'; usage: TokenUsage; model: string | undefined; text: string }
  | { type: 'limit' }
  | ModelStartEvent
  /** One of the model chain's events for this run's request (the agent hands it to the run's listener). */
  | { type: 'model-event'; event: ModelChainEvent };

/**
 * A model that streams one answer without LangChain chunks or callbacks (the model chain),
 * with the agent's tools already bound.
 */
export interface AnswerStreamer {
  streamAnswer(
    messages: BaseMessage[],
    options: { signal?: AbortSignal; onText(text: string): void; onStart?(model: string): void; onEvent?(event: ModelChainEvent): void },
  ): Promise<StreamedAnswer>;
}

/** What the steps need, fixed when the agent is created. */
export interface StepDeps {
  model: Runnable<BaseLanguageModelInput, AIMessageChunk>;
  /** When set, used instead of `model`: tokens go straight to the run's sink. */
  answers?: AnswerStreamer;
  tools: ReadonlyMap<string, StructuredToolInterface>;
  systemPrompt: string;
  maxContextTokens: number;
  maxToolRounds: number;
  toolTimeoutMs: number;
  maxToolOutputChars: number;
  now: () => Date;
}

/** One run as the steps see it. */
export interface StepContext {
  /** The run's signal: aborts the model request and running tools. */
  signal?: AbortSignal;
  /** Receives the run's signals, synchronously. */
  emit: (signal: RunSignal) => void;
  /** Config of a LangChain model's `stream` call (the answer streamer gets only the signal). */
  modelConfig: RunnableConfig;
  /** Callbacks and `configurable` (thread, user and run ids) handed to every tool. */
  toolConfig: Pick<RunnableConfig, 'callbacks' | 'configurable'>;
}

/** The state a step reads. */
export interface StepState {
  messages: BaseMessage[];
  memoryContext?: string;
  toolRounds?: number;
  invalidCalls?: Record<string, string>;
}

/** What the model step writes: removals of the pruned turns, then the answer. */
export interface ModelStepUpdate {
  messages: BaseMessage[];
  invalidCalls: Record<string, string>;
}

/** What the tools step writes: the results, and either the next round count or the cap. */
export interface ToolsStepUpdate {
  messages: ToolMessage[];
  toolRounds?: number;
  limitReached?: boolean;
}

function modelNameOf(message: AIMessage): string | undefined {
  const meta = message.response_metadata as { model_name?: unknown; model?: unknown } | undefined;
  const name = meta?.model_name ?? meta?.model;
  return typeof name === 'string' && name !== '' ? name : undefined;
}

/** Text of plain-text chunks, kept aside so that they need no AIMessageChunk merge per token. */
const pendingText = new WeakMap<AIMessageChunk, string[]>();

function isPlainText(chunk: AIMessageChunk): boolean {
  return (
    typeof chunk.content === 'string' &&
    !chunk.tool_call_chunks?.length &&
    !chunk.usage_metadata &&
    Object.keys(chunk.response_metadata ?? {}).length === 0 &&
    Object.keys(chunk.additional_kwargs ?? {}).length === 0
  );
}

/**
 * Adds a streamed chunk to the answer so far. `AIMessageChunk.concat` builds a new chunk each
 * time; plain text pieces (most of a stream) are only collected and joined once at the end.
 */
function appendChunk(full: AIMessageChunk | undefined, chunk: AIMessageChunk): AIMessageChunk {
  if (!full) {
    if (!isPlainText(chunk)) return chunk;
    const head = new AIMessageChunk({ id: chunk.id, content: '' });
    pendingText.set(head, [chunk.content as string]);
    return head;
  }
  const parts = pendingText.get(full);
  if (parts && isPlainText(chunk)) {
    parts.push(chunk.content as string);
    return full;
  }
  return finishChunk(full).concat(chunk);
}

/** The chunk with its collected plain text put back in place. */
function finishChunk(full: AIMessageChunk): AIMessageChunk {
  const parts = pendingText.get(full);
  return parts ? new AIMessageChunk({ id: full.id, content: parts.join('') }) : full;
}

/**
 * A stored AI message from the streamed chunks. Tool calls without an id get one, and calls whose
 * arguments were not JSON become ordinary calls with empty arguments (providers such as OpenAI
 * drop invalid calls from the request, which would orphan their error results); their parse
 * errors are returned separately so the tools node can answer them with an error.
 */
function toAIMessage(chunk: AIMessageChunk): { message: AIMessage; invalidCalls: Record<string, string> } {
  const invalidCalls: Record<string, string> = {};
  const toolCalls = (chunk.tool_calls ?? []).map((call) => ({ ...call, id: call.id || `call_${randomUUID()}` }));
  for (const call of chunk.invalid_tool_calls ?? []) {
    const id = call.id || `call_${randomUUID()}`;
    invalidCalls[id] = call.error || 'unparseable arguments';
    toolCalls.push({ type: 'tool_call', id, name: call.name ?? '', args: {} });
  }
  const message = new AIMessage({
    id: chunk.id,
    content: chunk.content,
    tool_calls: toolCalls,
    usage_metadata: chunk.usage_metadata,
    response_metadata: chunk.response_metadata,
    additional_kwargs: chunk.additional_kwargs,
  });
  return { message, invalidCalls };
}

/** A stored AI message from a streamed answer; as {@link toAIMessage} for calls that are not JSON objects. */
function answerToAIMessage(answer: StreamedAnswer): { message: AIMessage; invalidCalls: Record<string, string> } {
  const invalidCalls: Record<string, string> = {};
  const toolCalls = answer.toolCalls.map((call) => {
    const id = call.id || `call_${randomUUID()}`;
    let args: unknown = {};
    try {
      args = call.args.trim() === '' ? {} : JSON.parse(call.args);
    } catch (error) {
      invalidCalls[id] = `unparseable arguments: ${(error as Error).message}`;
    }
    if (args === null || typeof args !== 'object' || Array.isArray(args)) {
      invalidCalls[id] ??= 'the arguments are not a JSON object';
      args = {};
    }
    return { type: 'tool_call' as const, id, name: call.name, args: args as Record<string, unknown> };
  });
  const response_metadata: Record<string, unknown> = { model_name: answer.model };
  if (answer.finishReason !== undefined) response_metadata.finish_reason = answer.finishReason;
  const message = new AIMessage({
    content: answer.text,
    tool_calls: toolCalls,
    response_metadata,
    usage_metadata: answer.usage && {
      input_tokens: answer.usage.inputTokens,
      output_tokens: answer.usage.outputTokens,
      total_tokens: answer.usage.inputTokens + answer.usage.outputTokens,
    },
  });
  return { message, invalidCalls };
}

function pendingCalls(message: BaseMessage | undefined, invalidCalls: Record<string, string> = {}): ToolCallRequest[] {
  if (!message || !AIMessage.isInstance(message)) return [];
  return (message.tool_calls ?? []).map((call) => {
    const id = call.id ?? '';
    const invalidArgs = Object.hasOwn(invalidCalls, id) ? invalidCalls[id] : undefined;
    return { id, name: call.name, args: call.args, ...(invalidArgs === undefined ? {} : { invalidArgs }) };
  });
}

/** Streams through the chain's own path: no chunk objects, tokens straight to the writer. */
async function answerOf(answers: AnswerStreamer, window: BaseMessage[], ctx: StepContext) {
  const emit = ctx.emit;
  let answer: StreamedAnswer;
  try {
    answer = await answers.streamAnswer(window, {
      signal: ctx.signal,
      onText: (text) => emit({ type: 'token', text }),
      onStart: (model) => emit({ type: 'model-start', model }),
      onEvent: (event) => emit({ type: 'model-event', event }),
    });
  } catch (error) {
    if (ctx.signal?.aborted) throw error;
    throw toAgentError(error, AgentErrorCode.ModelUnavailable);
  }
  if (answer.text === '' && answer.toolCalls.length === 0) {
    throw new AgentError(AgentErrorCode.ModelUnavailable, 'The model returned an empty response');
  }
  return answerToAIMessage(answer);
}

/** Streams any LangChain chat model, merging its chunks into one message. */
async function streamChunks(model: StepDeps['model'], window: BaseMessage[], ctx: StepContext) {
  let full: AIMessageChunk | undefined;
  try {
    for await (const chunk of await model.stream(window, ctx.modelConfig)) {
      const text = contentText(chunk.content);
      if (text !== '') ctx.emit({ type: 'token', text });
      full = appendChunk(full, chunk);
    }
  } catch (error) {
    if (ctx.signal?.aborted) throw error;
    throw toAgentError(error, AgentErrorCode.ModelUnavailable);
  }
  if (!full) throw new AgentError(AgentErrorCode.ModelUnavailable, 'The model returned an empty response');
  return toAIMessage(finishChunk(full));
}

/** Stored turns that no longer fit the context window are removed once at least this many messages can go. */
const PRUNE_MIN_MESSAGES = 8;

/**
 * Removals for the stored turns older than the context window: they are never sent to the model
 * again, and keeping them makes every later run load, deserialise and checkpoint more. Only
 * whole earlier turns go (the cut backs up to the human message that opens the first kept turn).
 */
function pruneOutsideWindow(history: readonly BaseMessage[], window: readonly BaseMessage[]): RemoveMessage[] {
  const firstKept = window.find((m) => m.type !== 'system');
  if (!firstKept) return [];
  let cut = history.indexOf(firstKept);
  while (cut > 0 && history[cut].type !== 'human') cut--;
  if (cut < PRUNE_MIN_MESSAGES) return [];
  return history.slice(0, cut).flatMap((m) => (m.id ? [new RemoveMessage({ id: m.id })] : []));
}

/** The model step: renders the system prompt, trims the history to the window and streams the answer. */
export async function callModel(deps: StepDeps, state: StepState, ctx: StepContext): Promise<ModelStepUpdate> {
  const system = new SystemMessage(
    renderPrompt(deps.systemPrompt, { memories: state.memoryContext || '(nothing yet)', now: deps.now().toISOString() }),
  );
  const window = trimMessagesToBudget([system, ...state.messages], { maxTokens: deps.maxContextTokens });
  const { message, invalidCalls } = deps.answers
    ? await answerOf(deps.answers, window, ctx)
    : await streamChunks(deps.model, window, ctx);
  const text = contentText(message.content);
  const usage = message.usage_metadata
    ? { inputTokens: message.usage_metadata.input_tokens, outputTokens: message.usage_metadata.output_tokens }
    : {
        inputTokens: estimateMessagesTokens(window),
        outputTokens: estimateTextTokens(text) + estimateTextTokens(JSON.stringify(message.tool_calls ?? [])),
      };
  ctx.emit({ type: 'model-end', usage, model: modelNameOf(message), text });
  return { messages: [...pruneOutsideWindow(state.messages, window), message], invalidCalls };
}

/** The tools step: runs the last answer's tool calls, or answers them with an error once the round cap is reached. */
export async function callTools(deps: StepDeps, state: StepState, ctx: StepContext): Promise<ToolsStepUpdate> {
  const calls = pendingCalls(state.messages.at(-1), state.invalidCalls);
  const rounds = state.toolRounds ?? 0;
  if (rounds >= deps.maxToolRounds) {
    ctx.emit({ type: 'limit' });
    const content = `Error: the limit of ${deps.maxToolRounds} tool rounds per run was reached; the tool was not run.`;
    return {
      messages: calls.map((call) => new ToolMessage({ content, tool_call_id: call.id, name: call.name, status: 'error' })),
      limitReached: true,
    };
  }
  const messages = await runToolCalls(calls, {
    tools: deps.tools,
    timeoutMs: deps.toolTimeoutMs,
    maxOutputChars: deps.maxToolOutputChars,
    signal: ctx.signal,
    config: ctx.toolConfig,
    onEvent: (event) => ctx.emit({ type: 'tool', event }),
  });
  return { messages, toolRounds: rounds + 1 };
}

/** True when the last message is an answer with tool calls: the tools step runs next. */
export function hasPendingCalls(messages: readonly BaseMessage[]): boolean {
  return pendingCalls(messages.at(-1)).length > 0;
}
