import { randomUUID } from 'node:crypto';
import type { Runnable } from '@langchain/core/runnables';
import type { BaseLanguageModelInput } from '@langchain/core/language_models/base';
import { AIMessage, AIMessageChunk, BaseMessage, BaseMessageChunk, RemoveMessage, SystemMessage, ToolMessage } from '@langchain/core/messages';
import type { StructuredToolInterface } from '@langchain/core/tools';
import {
  Annotation,
  END,
  messagesStateReducer,
  REMOVE_ALL_MESSAGES,
  START,
  StateGraph,
  type BaseCheckpointSaver,
  type LangGraphRunnableConfig,
} from '@langchain/langgraph';
import { AgentError, AgentErrorCode, toAgentError } from './errors.js';
import type { ModelStartEvent, TokenEvent, TokenUsage, ToolEndEvent, ToolStartEvent } from './events.js';
import type { StreamedAnswer } from './models/answer.js';
import { renderPrompt } from './prompts.js';
import { runToolCalls, type ToolCallRequest } from './tool-runner.js';
import { contentText, estimateMessagesTokens, estimateTextTokens } from './tokens.js';
import { trimMessagesToBudget } from './trim.js';

/**
 * What the graph's nodes report through the run's writer; the agent turns these into
 * AgentEvents. A token is already the AgentEvent it becomes (one object per token).
 */
export type GraphSignal =
  | TokenEvent
  | { type: 'tool'; event: ToolStartEvent | ToolEndEvent }
  | { type: 'model-end'; usage: TokenUsage; model: string | undefined; text: string }
  | { type: 'limit' }
  | ModelStartEvent;

/**
 * A model that streams one answer without LangChain chunks or callbacks (the model chain),
 * with the agent's tools already bound.
 */
export interface AnswerStreamer {
  streamAnswer(messages: BaseMessage[], options: { signal?: AbortSignal; onText(text: string): void; onStart?(model: string): void }): Promise<StreamedAnswer>;
}

/** Messages that came out of {@link reduceMessages}: real (not chunk) messages with an id. */
const reduced = new WeakSet<BaseMessage>();

/**
 * LangGraph's `messagesStateReducer`, without coercing the whole history again on every write:
 * when every message of `left` already came out of this reducer and every new one is a real
 * message (not a chunk), the merge is done here, with the same rules (ids given to messages that
 * have none, `RemoveMessage` by id or all, a message with a known id replaces the old one).
 * Anything else goes to upstream's reducer.
 */
export function reduceMessages(left: BaseMessage[] | BaseMessage, right: BaseMessage[] | BaseMessage): BaseMessage[] {
  const leftArray = Array.isArray(left) ? left : [left];
  const rightArray = Array.isArray(right) ? right : [right];
  const fast =
    leftArray.every((m) => reduced.has(m)) && rightArray.every((m) => reduced.has(m) || (BaseMessage.isInstance(m) && !BaseMessageChunk.isInstance(m)));
  const merged = fast ? mergeMessages(leftArray, rightArray) : messagesStateReducer(left, right);
  for (const m of merged) reduced.add(m);
  return merged;
}

function mergeMessages(left: BaseMessage[], right: BaseMessage[]): BaseMessage[] {
  let removeAllIdx: number | undefined;
  for (let i = 0; i < right.length; i++) {
    const m = right[i];
    if (m.id === null || m.id === undefined) {
      m.id = randomUUID();
      m.lc_kwargs.id = m.id;
    }
    if (RemoveMessage.isInstance(m) && m.id === REMOVE_ALL_MESSAGES) removeAllIdx = i;
  }
  if (removeAllIdx !== undefined) return right.slice(removeAllIdx + 1);
  const merged = [...left];
  const indexById = new Map(merged.map((m, i) => [m.id, i]));
  const idsToRemove = new Set<string>();
  for (const m of right) {
    const existing = indexById.get(m.id);
    if (existing !== undefined) {
      if (RemoveMessage.isInstance(m)) idsToRemove.add(m.id!);
      else {
        idsToRemove.delete(m.id!);
        merged[existing] = m;
      }
    } else {
      if (RemoveMessage.isInstance(m)) throw new Error(`Attempting to delete a message with an ID that doesn't exist ('${m.id}')`);
      indexById.set(m.id, merged.length);
      merged.push(m);
    }
  }
  return idsToRemove.size === 0 ? merged : merged.filter((m) => !idsToRemove.has(m.id!));
}

export const AgentState = Annotation.Root({
  messages: Annotation<BaseMessage[]>({ reducer: reduceMessages, default: () => [] }),
  /** Long-term memories for this turn, rendered into the system prompt. */
  memoryContext: Annotation<string>(),
  /** Tool rounds so far in this run (reset by every run's input). */
  toolRounds: Annotation<number>(),
  /** Set when the run hit the tool-round cap. */
  limitReached: Annotation<boolean>(),
  /** Tool calls of the last model answer whose arguments were not JSON: call id → parse error. */
  invalidCalls: Annotation<Record<string, string>>(),
});

export type AgentStateValue = typeof AgentState.State;
export type AgentStateUpdate = typeof AgentState.Update;

export interface GraphDeps {
  model: Runnable<BaseLanguageModelInput, AIMessageChunk>;
  /** When set, used instead of `model`: tokens go straight to the writer. */
  answers?: AnswerStreamer;
  tools: ReadonlyMap<string, StructuredToolInterface>;
  checkpointer: BaseCheckpointSaver;
  systemPrompt: string;
  maxContextTokens: number;
  maxToolRounds: number;
  toolTimeoutMs: number;
  maxToolOutputChars: number;
  now: () => Date;
}

function emit(config: LangGraphRunnableConfig, signal: GraphSignal): void {
  config.writer?.(signal);
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

/** Only the caller's keys of `configurable` (thread_id, userId, …), not LangGraph's internals. */
function publicConfigurable(config: LangGraphRunnableConfig): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(config.configurable ?? {}).filter(([key]) => !key.startsWith('__') && !key.startsWith('checkpoint_')),
  );
}

/** Streams through the chain's own path: no chunk objects, tokens straight to the writer. */
async function answerOf(answers: AnswerStreamer, window: BaseMessage[], config: LangGraphRunnableConfig) {
  const writer = config.writer;
  let answer: StreamedAnswer;
  try {
    answer = await answers.streamAnswer(window, {
      signal: config.signal,
      onText: (text) => writer?.({ type: 'token', text }),
      onStart: (model) => writer?.({ type: 'model-start', model }),
    });
  } catch (error) {
    if (config.signal?.aborted) throw error;
    throw toAgentError(error, AgentErrorCode.ModelUnavailable);
  }
  if (answer.text === '' && answer.toolCalls.length === 0) {
    throw new AgentError(AgentErrorCode.ModelUnavailable, 'The model returned an empty response');
  }
  return answerToAIMessage(answer);
}

/** Streams any LangChain chat model, merging its chunks into one message. */
async function streamChunks(model: GraphDeps['model'], window: BaseMessage[], config: LangGraphRunnableConfig) {
  let full: AIMessageChunk | undefined;
  try {
    for await (const chunk of await model.stream(window, config)) {
      const text = contentText(chunk.content);
      if (text !== '') emit(config, { type: 'token', text });
      full = appendChunk(full, chunk);
    }
  } catch (error) {
    if (config.signal?.aborted) throw error;
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

/** Builds and compiles the model ⇄ tools StateGraph. */
export function buildAgentGraph(deps: GraphDeps) {
  async function callModel(state: AgentStateValue, config: LangGraphRunnableConfig): Promise<AgentStateUpdate> {
    const system = new SystemMessage(
      renderPrompt(deps.systemPrompt, { memories: state.memoryContext || '(nothing yet)', now: deps.now().toISOString() }),
    );
    const window = trimMessagesToBudget([system, ...state.messages], { maxTokens: deps.maxContextTokens });
    const { message, invalidCalls } = deps.answers
      ? await answerOf(deps.answers, window, config)
      : await streamChunks(deps.model, window, config);
    const text = contentText(message.content);
    const usage = message.usage_metadata
      ? { inputTokens: message.usage_metadata.input_tokens, outputTokens: message.usage_metadata.output_tokens }
      : {
          inputTokens: estimateMessagesTokens(window),
          outputTokens: estimateTextTokens(text) + estimateTextTokens(JSON.stringify(message.tool_calls ?? [])),
        };
    emit(config, { type: 'model-end', usage, model: modelNameOf(message), text });
    return { messages: [...pruneOutsideWindow(state.messages, window), message], invalidCalls };
  }

  async function callTools(state: AgentStateValue, config: LangGraphRunnableConfig): Promise<AgentStateUpdate> {
    const calls = pendingCalls(state.messages.at(-1), state.invalidCalls);
    const rounds = state.toolRounds ?? 0;
    if (rounds >= deps.maxToolRounds) {
      emit(config, { type: 'limit' });
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
      signal: config.signal,
      config: { callbacks: config.callbacks, configurable: publicConfigurable(config) },
      onEvent: (event) => emit(config, { type: 'tool', event }),
    });
    return { messages, toolRounds: rounds + 1 };
  }

  return new StateGraph(AgentState)
    .addNode('model', callModel)
    .addNode('tools', callTools)
    .addEdge(START, 'model')
    .addConditionalEdges('model', (state) => (pendingCalls(state.messages.at(-1)).length > 0 ? 'tools' : END), ['tools', END])
    .addConditionalEdges('tools', (state) => (state.limitReached ? END : 'model'), ['model', END])
    .compile({ checkpointer: deps.checkpointer });
}

export type AgentGraph = ReturnType<typeof buildAgentGraph>;
