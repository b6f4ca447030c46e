import type { CallbackManagerForLLMRun } from '@langchain/core/callbacks/manager';
import {
  BaseChatModel,
  type BaseChatModelCallOptions,
  type BaseChatModelParams,
  type BindToolsInput,
} from '@langchain/core/language_models/chat_models';
import { AIMessage, AIMessageChunk, type BaseMessage } from '@langchain/core/messages';
import { ChatGenerationChunk, type ChatResult } from '@langchain/core/outputs';
import { convertToOpenAITool } from '@langchain/core/utils/function_calling';
import { planLocalReply, type BoundToolArgs, type LocalReply } from './local-script.js';
import { estimateMessagesTokens, estimateTextTokens } from './tokens.js';

/** Options of the offline `local` model. */
export interface LocalModelOptions {
  /**
   * Pause between streamed tokens, in milliseconds. With 0 the model still yields to the event
   * loop between tokens (streaming through LangGraph loses tokens otherwise).
   * @default 20
   */
  tokenDelayMs?: number;
  /**
   * Length of the scripted answer to messages that need no tool, in word-ish tokens
   * (the default is the full greeting; longer answers continue with filler sentences).
   * @default 36
   */
  defaultAnswerTokens?: number;
  /**
   * Length of the answer when the user asks for a "long answer", in word-ish tokens.
   * @default 400
   */
  longAnswerTokens?: number;
}

const DEFAULTS = {
  tokenDelayMs: 20,
  defaultAnswerTokens: 36,
  longAnswerTokens: 400,
} satisfies Required<LocalModelOptions>;

/** The name the model reports in `response_metadata.model_name` and in `done.model`. */
export const LOCAL_MODEL_NAME = 'local';

function abortError(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason : new DOMException('The operation was aborted.', 'AbortError');
}

/** Waits `ms` (or one macrotask when 0), rejecting as soon as `signal` fires. */
function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortError(signal));
    const done = (): void => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    };
    const timer = ms > 0 ? setTimeout(done, ms) : undefined;
    const immediate = ms > 0 ? undefined : setImmediate(done);
    const onAbort = (): void => {
      if (timer) clearTimeout(timer);
      if (immediate) clearImmediate(immediate);
      reject(abortError(signal as AbortSignal));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** The bound tools' names and, per tool, its main string argument (first required string property). */
function describeTools(tools: BindToolsInput[]): Map<string, string> {
  const result = new Map<string, string>();
  for (const input of tools) {
    const spec = convertToOpenAITool(input).function;
    const params = (spec.parameters ?? {}) as { properties?: Record<string, { type?: unknown }>; required?: string[] };
    const strings = Object.entries(params.properties ?? {})
      .filter(([, schema]) => schema.type === 'string')
      .map(([name]) => name);
    result.set(spec.name, strings.find((name) => params.required?.includes(name)) ?? strings[0] ?? '');
  }
  return result;
}

/**
 * An offline, deterministic chat model. It streams word-ish tokens at a configurable pace,
 * supports tool binding and really calls tools: arithmetic → `calculator`, time questions →
 * `clock`, "remember …" → `remember`, "what is my …?" → `recall` (the last two only when bound),
 * then answers from the tool results. Anything else gets a friendly scripted answer.
 */
class LocalChatModel extends BaseChatModel<BaseChatModelCallOptions, AIMessageChunk> {
  readonly model = LOCAL_MODEL_NAME;
  private readonly settings: Required<LocalModelOptions>;
  private readonly tools: BoundToolArgs;

  constructor(options: LocalModelOptions & BaseChatModelParams = {}, tools: BoundToolArgs = new Map()) {
    const { tokenDelayMs, defaultAnswerTokens, longAnswerTokens, ...base } = options;
    super(base);
    this.settings = {
      tokenDelayMs: Math.max(0, tokenDelayMs ?? DEFAULTS.tokenDelayMs),
      defaultAnswerTokens: Math.max(1, defaultAnswerTokens ?? DEFAULTS.defaultAnswerTokens),
      longAnswerTokens: Math.max(1, longAnswerTokens ?? DEFAULTS.longAnswerTokens),
    };
    this.tools = tools;
  }

  _llmType(): string {
    return LOCAL_MODEL_NAME;
  }

  override bindTools(tools: BindToolsInput[]): LocalChatModel {
    return new LocalChatModel({ ...this.settings, callbacks: this.callbacks }, new Map([...this.tools, ...describeTools(tools)]));
  }

  private plan(messages: BaseMessage[]): LocalReply {
    return planLocalReply(messages, this.tools, this.settings);
  }

  private finalChunk(messages: BaseMessage[], reply: LocalReply): ChatGenerationChunk {
    const output = reply.kind === 'text' ? estimateTextTokens(reply.text) : estimateTextTokens(JSON.stringify(reply.args)) + 1;
    const input = estimateMessagesTokens(messages);
    return new ChatGenerationChunk({
      text: '',
      message: new AIMessageChunk({
        content: '',
        usage_metadata: { input_tokens: input, output_tokens: output, total_tokens: input + output },
        response_metadata: { model_name: LOCAL_MODEL_NAME, finish_reason: reply.kind === 'tool' ? 'tool_calls' : 'stop' },
      }),
    });
  }

  private toolCallId(messages: BaseMessage[]): string {
    return `call_local_${messages.length}`;
  }

  override async *_streamResponseChunks(
    messages: BaseMessage[],
    options: this['ParsedCallOptions'],
    runManager?: CallbackManagerForLLMRun,
  ): AsyncGenerator<ChatGenerationChunk> {
    const { signal } = options;
    const reply = this.plan(messages);
    if (reply.kind === 'tool') {
      await pause(this.settings.tokenDelayMs, signal);
      const chunk = new ChatGenerationChunk({
        text: '',
        message: new AIMessageChunk({
          content: '',
          tool_call_chunks: [
            { type: 'tool_call_chunk', index: 0, id: this.toolCallId(messages), name: reply.name, args: JSON.stringify(reply.args) },
          ],
        }),
      });
      yield chunk;
      await runManager?.handleLLMNewToken('', undefined, undefined, undefined, undefined, { chunk });
    } else {
      for (const piece of reply.text.match(/\s*\S+/g) ?? []) {
        await pause(this.settings.tokenDelayMs, signal);
        const chunk = new ChatGenerationChunk({ text: piece, message: new AIMessageChunk({ content: piece }) });
        yield chunk;
        await runManager?.handleLLMNewToken(piece, undefined, undefined, undefined, undefined, { chunk });
      }
    }
    signal?.throwIfAborted();
    yield this.finalChunk(messages, reply);
  }

  override async _generate(messages: BaseMessage[], options: this['ParsedCallOptions']): Promise<ChatResult> {
    options.signal?.throwIfAborted();
    const reply = this.plan(messages);
    const meta = this.finalChunk(messages, reply).message as AIMessageChunk;
    const message =
      reply.kind === 'tool'
        ? new AIMessage({
            content: '',
            tool_calls: [{ type: 'tool_call', id: this.toolCallId(messages), name: reply.name, args: reply.args }],
            usage_metadata: meta.usage_metadata,
            response_metadata: meta.response_metadata,
          })
        : new AIMessage({ content: reply.text, usage_metadata: meta.usage_metadata, response_metadata: meta.response_metadata });
    return { generations: [{ text: reply.kind === 'text' ? reply.text : '', message }] };
  }
}

/**
 * Creates the offline `local` chat model.
 *
 * @example
 * const model = createLocalModel({ tokenDelayMs: 0 });
 * const agent = createAgent({ model });
 */
export function createLocalModel(options: LocalModelOptions = {}): BaseChatModel<BaseChatModelCallOptions, AIMessageChunk> {
  return new LocalChatModel(options);
}
