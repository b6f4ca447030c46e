/**
 * A chat model for tests that follows a script and fails on cue. Not part of the public API.
 */
import type { CallbackManagerForLLMRun } from '@langchain/core/callbacks/manager';
import { BaseChatModel, type BaseChatModelCallOptions, type BindToolsInput } from '@langchain/core/language_models/chat_models';
import { AIMessageChunk, type BaseMessage, type UsageMetadata } from '@langchain/core/messages';
import { ChatGenerationChunk, type ChatResult } from '@langchain/core/outputs';

/** One model call of the script. */
export interface ScriptStep {
  /** Answer text, streamed word by word. */
  text?: string;
  /** Tool calls to make (after the text). `args` as a string is sent verbatim (may be bad JSON). */
  toolCalls?: Array<{ name: string; args: Record<string, unknown> | string; id?: string }>;
  /** Throw this before the first token, or after `throwAfterTokens` tokens. */
  error?: Error;
  throwAfterTokens?: number;
  /** Never answer (and ignore the abort signal when `ignoreAbort`). */
  hang?: boolean;
  ignoreAbort?: boolean;
  usage?: UsageMetadata;
  modelName?: string;
}

export interface ScriptState {
  /** Messages received by each call. */
  calls: BaseMessage[][];
  /** Tool names bound via bindTools. */
  boundTools: string[];
  /** Calls whose signal fired. */
  aborted: number;
}

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export class ScriptedChatModel extends BaseChatModel<BaseChatModelCallOptions, AIMessageChunk> {
  readonly state: ScriptState;
  private readonly steps: ScriptStep[];

  /** The last step repeats when the script runs out. */
  constructor(steps: ScriptStep[], state: ScriptState = { calls: [], boundTools: [], aborted: 0 }) {
    super({});
    this.steps = steps;
    this.state = state;
  }

  _llmType(): string {
    return 'scripted';
  }

  override bindTools(tools: BindToolsInput[]): ScriptedChatModel {
    this.state.boundTools = tools.map((t) => String((t as { name?: unknown }).name));
    return new ScriptedChatModel(this.steps, this.state);
  }

  override async *_streamResponseChunks(
    messages: BaseMessage[],
    options: this['ParsedCallOptions'],
    runManager?: CallbackManagerForLLMRun,
  ): AsyncGenerator<ChatGenerationChunk> {
    const index = this.state.calls.length;
    this.state.calls.push(messages);
    const step = this.steps[Math.min(index, this.steps.length - 1)];
    options.signal?.addEventListener('abort', () => (this.state.aborted += 1), { once: true });
    if (step.hang) {
      await new Promise<void>((_, reject) => {
        if (!step.ignoreAbort) options.signal?.addEventListener('abort', () => reject(new DOMException('Aborted', 'AbortError')));
      });
    }
    if (step.error && !step.throwAfterTokens) throw step.error;
    let sent = 0;
    for (const piece of step.text?.match(/\s*\S+/g) ?? []) {
      await tick();
      options.signal?.throwIfAborted();
      if (step.error && sent === step.throwAfterTokens) throw step.error;
      const chunk = new ChatGenerationChunk({ text: piece, message: new AIMessageChunk({ content: piece }) });
      yield chunk;
      sent += 1;
      await runManager?.handleLLMNewToken(piece, undefined, undefined, undefined, undefined, { chunk });
    }
    if (step.error) throw step.error;
    await tick();
    const calls = step.toolCalls ?? [];
    yield new ChatGenerationChunk({
      text: '',
      message: new AIMessageChunk({
        content: '',
        tool_call_chunks: calls.map((call, i) => ({
          type: 'tool_call_chunk' as const,
          index: i,
          id: call.id ?? `call_${index}_${i}`,
          name: call.name,
          args: typeof call.args === 'string' ? call.args : JSON.stringify(call.args),
        })),
        usage_metadata: step.usage,
        response_metadata: step.modelName ? { model_name: step.modelName } : {},
      }),
    });
  }

  override async _generate(): Promise<ChatResult> {
    throw new Error('ScriptedChatModel only streams');
  }
}
