/**
 * The LangChain client: `ChatOpenAI._streamResponseChunks` (below LangChain's callbacks) pumped
 * into the same sink as the lean client, so that the chain treats both alike.
 */
import { AIMessageChunk } from '@langchain/core/messages';
import { ChatOpenAI } from '@langchain/openai';
import type { ChatClient, ChatRequest, StreamSink } from './chat-client.js';
import type { ResolvedModelSpec } from './model-spec.js';

class LangChainClient implements ChatClient {
  readonly model: ChatOpenAI;

  constructor(spec: ResolvedModelSpec) {
    this.model = new ChatOpenAI({
      model: spec.model,
      apiKey: spec.apiKey,
      configuration: { baseURL: spec.baseURL, defaultHeaders: spec.headers, logLevel: 'off' },
      temperature: spec.temperature,
      maxTokens: spec.maxTokens,
      // Retries, timeouts and fallbacks are the chain's; the client must not add its own.
      maxRetries: 0,
      streaming: true,
      streamUsage: true,
    });
  }

  start(request: ChatRequest, sink: StreamSink): (reason?: unknown) => void {
    const ctrl = new AbortController();
    let cancelled = false;
    const pump = async (): Promise<void> => {
      const options = { ...request.options, signal: ctrl.signal } as ChatOpenAI['ParsedCallOptions'];
      for await (const chunk of this.model._streamResponseChunks(request.messages, options)) {
        if (cancelled) return;
        const message = chunk.message;
        if (chunk.text !== '') sink.text(chunk.text);
        if (AIMessageChunk.isInstance(message)) {
          for (const call of message.tool_call_chunks ?? []) sink.toolCall(call.index ?? 0, call.id, call.name, call.args);
          const usage = message.usage_metadata;
          if (usage) sink.usage(usage.input_tokens, usage.output_tokens);
        }
        const metadata = message.response_metadata as { finish_reason?: unknown } | undefined;
        const finish: unknown = chunk.generationInfo?.finish_reason ?? metadata?.finish_reason;
        if (typeof finish === 'string' && finish !== '') sink.finish(finish);
      }
      if (!cancelled) sink.end();
    };
    pump().catch((err: unknown) => {
      if (!cancelled) sink.error(err);
    });
    return (reason) => {
      cancelled = true;
      ctrl.abort(reason);
    };
  }
}

/** The ChatOpenAI client of one model. */
export function createLangChainClient(spec: ResolvedModelSpec): ChatClient {
  return new LangChainClient(spec);
}
