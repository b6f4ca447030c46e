/**
 * Sinks of the chain: the answer assembled once at the end (the agent's path: text pieces are
 * handed on as they arrive and joined once), and LangChain chunks (the `BaseChatModel` path).
 */
import { AIMessageChunk } from '@langchain/core/messages';
import { ChatGenerationChunk } from '@langchain/core/outputs';
import type { AnswerSink } from './chat-client.js';

/** One tool call of a streamed answer; `args` is the raw JSON text the model sent. */
export interface StreamedToolCall {
  id: string | undefined;
  name: string;
  args: string;
}

/** A whole answer of the chain, assembled once when the stream ended. */
export interface StreamedAnswer {
  text: string;
  toolCalls: StreamedToolCall[];
  /** Provider-reported token counts, when the provider sent them. */
  usage?: { inputTokens: number; outputTokens: number };
  finishReason?: string;
  /** Configured name of the model that answered. */
  model: string;
}

/** A sink that the chain tells which model's attempt it committed to (before its first piece). */
export interface CommitSink extends AnswerSink {
  commit(model: string): void;
}

export class AnswerAssembler implements CommitSink {
  private readonly parts: string[] = [];
  private readonly calls: Array<StreamedToolCall | undefined> = [];
  private usageSeen: StreamedAnswer['usage'];
  private finishReason: string | undefined;
  private model = '';

  constructor(
    private readonly onText: ((text: string) => void) | undefined,
    private readonly onCommit?: (model: string) => void,
  ) {}

  commit(model: string): void {
    this.model = model;
    this.onCommit?.(model);
  }

  text(text: string): void {
    this.parts.push(text);
    this.onText?.(text);
  }

  toolCall(index: number, id: string | undefined, name: string | undefined, args: string | undefined): void {
    const call = (this.calls[index] ??= { id: undefined, name: '', args: '' });
    if (id) call.id = id;
    if (name) call.name += name;
    if (args) call.args += args;
  }

  usage(inputTokens: number, outputTokens: number): void {
    this.usageSeen = { inputTokens, outputTokens };
  }

  finish(reason: string): void {
    this.finishReason = reason;
  }

  answer(): StreamedAnswer {
    const answer: StreamedAnswer = {
      text: this.parts.join(''),
      toolCalls: this.calls.filter((c): c is StreamedToolCall => c !== undefined),
      model: this.model,
    };
    if (this.usageSeen) answer.usage = this.usageSeen;
    if (this.finishReason !== undefined) answer.finishReason = this.finishReason;
    return answer;
  }
}

/** Turns pieces into LangChain chunks; the first one names the answering model. */
export class ChunkSink implements CommitSink {
  private model: string | undefined;

  constructor(private readonly push: (chunk: ChatGenerationChunk) => void) {}

  commit(model: string): void {
    this.model = model;
  }

  private out(text: string, fields: ConstructorParameters<typeof AIMessageChunk>[0] & object, info?: Record<string, unknown>): void {
    const message = new AIMessageChunk(fields);
    if (this.model !== undefined) {
      message.response_metadata = { ...message.response_metadata, model_name: this.model };
      this.model = undefined;
    }
    this.push(new ChatGenerationChunk({ text, message, generationInfo: info }));
  }

  text(text: string): void {
    this.out(text, { content: text });
  }

  toolCall(index: number, id: string | undefined, name: string | undefined, args: string | undefined): void {
    this.out('', { content: '', tool_call_chunks: [{ type: 'tool_call_chunk', index, id, name, args }] });
  }

  usage(inputTokens: number, outputTokens: number): void {
    this.out('', {
      content: '',
      usage_metadata: { input_tokens: inputTokens, output_tokens: outputTokens, total_tokens: inputTokens + outputTokens },
    });
  }

  finish(reason: string): void {
    this.out('', { content: '', response_metadata: { finish_reason: reason } }, { finish_reason: reason });
  }
}
