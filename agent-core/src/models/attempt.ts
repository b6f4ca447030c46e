/**
 * One attempt against one model: open the stream and wait for the first token under a
 * cockatiel timeout, then stream the rest with an idle-gap timer.
 */
import type { BaseMessage } from '@langchain/core/messages';
import { AIMessageChunk } from '@langchain/core/messages';
import type { ChatGenerationChunk } from '@langchain/core/outputs';
import type { ChatOpenAI } from '@langchain/openai';
import { isTaskCancelledError, timeout, TimeoutStrategy } from 'cockatiel';
import { AttemptTimeout, classifyAttemptError } from './attempt-error.js';

type CallOptions = ChatOpenAI['ParsedCallOptions'];

/** A stream whose first token has arrived. */
export interface OpenStream {
  /** Chunks received up to and including the first token. */
  buffered: ChatGenerationChunk[];
  iterator: AsyncIterator<ChatGenerationChunk>;
  /** The stream ended before or with the first token. */
  ended: boolean;
  ctrl: AbortController;
  /** Detaches from the caller's signal and aborts the HTTP request if still open. */
  close(): void;
}

/** A chunk that reaches the client: text, or a piece of a tool call. */
export function isToken(chunk: ChatGenerationChunk): boolean {
  if (chunk.text.length > 0) return true;
  const message = chunk.message;
  return AIMessageChunk.isInstance(message) && (message.tool_call_chunks?.length ?? 0) > 0;
}

function timeoutReason(ctrl: AbortController): AttemptTimeout | undefined {
  return ctrl.signal.reason instanceof AttemptTimeout ? ctrl.signal.reason : undefined;
}

/**
 * Sends the request and resolves once the first token (or the end of an empty answer) arrived.
 * Rejects with an `AttemptError` (or the caller's abort reason when the caller aborted).
 */
export async function openUntilFirstToken(
  model: ChatOpenAI,
  messages: BaseMessage[],
  options: CallOptions,
  firstTokenTimeoutMs: number,
): Promise<OpenStream> {
  const callerSignal = options.signal;
  const ctrl = new AbortController();
  const onCallerAbort = (): void => ctrl.abort(callerSignal?.reason);
  callerSignal?.addEventListener('abort', onCallerAbort, { once: true });
  const release = (): void => callerSignal?.removeEventListener('abort', onCallerAbort);
  if (callerSignal?.aborted) onCallerAbort();

  const ms = Math.max(1, Math.floor(firstTokenTimeoutMs));
  const policy = timeout(ms, { strategy: TimeoutStrategy.Aggressive, abortOnReturn: false });
  try {
    return await policy.execute(async ({ signal: timeoutSignal }) => {
      const onTimeout = (): void => ctrl.abort(new AttemptTimeout('first_token_timeout', ms));
      timeoutSignal.addEventListener('abort', onTimeout, { once: true });
      try {
        const iterator = model
          ._streamResponseChunks(messages, { ...options, signal: ctrl.signal })
          [Symbol.asyncIterator]();
        const buffered: ChatGenerationChunk[] = [];
        for (;;) {
          const next = await iterator.next();
          if (ctrl.signal.aborted) throw ctrl.signal.reason;
          if (next.done) {
            return { buffered, iterator, ended: true, ctrl, close: () => release() };
          }
          buffered.push(next.value);
          if (isToken(next.value)) {
            const close = (): void => {
              release();
              if (!ctrl.signal.aborted) ctrl.abort();
            };
            return { buffered, iterator, ended: false, ctrl, close };
          }
        }
      } finally {
        timeoutSignal.removeEventListener('abort', onTimeout);
      }
    });
  } catch (err) {
    // Our timer's reason on ctrl, or cockatiel's TaskCancelledError if it won the race.
    const timedOut =
      timeoutReason(ctrl) ?? (isTaskCancelledError(err) ? new AttemptTimeout('first_token_timeout', ms) : undefined);
    if (!ctrl.signal.aborted) ctrl.abort();
    release();
    if (callerSignal?.aborted) throw callerSignal.reason;
    throw classifyAttemptError(err, timedOut);
  }
}

/**
 * Streams the rest of an open stream. The idle timer runs only while waiting for the provider,
 * never while the consumer holds a chunk. Errors are classified; the caller marks them as
 * happening after the first token.
 */
export async function* streamRest(open: OpenStream, idleTimeoutMs: number, callerSignal: AbortSignal | undefined): AsyncGenerator<ChatGenerationChunk> {
  for (const chunk of open.buffered) yield chunk;
  if (open.ended) return;
  const { ctrl, iterator } = open;
  let waiting = false;
  const timer = setTimeout(function onIdle() {
    if (waiting) ctrl.abort(new AttemptTimeout('idle_timeout', idleTimeoutMs));
    else timer.refresh();
  }, idleTimeoutMs);
  try {
    for (;;) {
      waiting = true;
      timer.refresh();
      let next: IteratorResult<ChatGenerationChunk>;
      try {
        next = await iterator.next();
      } catch (err) {
        if (callerSignal?.aborted) throw callerSignal.reason;
        throw classifyAttemptError(err, timeoutReason(ctrl));
      } finally {
        waiting = false;
      }
      if (ctrl.signal.aborted) {
        if (callerSignal?.aborted) throw callerSignal.reason;
        throw classifyAttemptError(new Error('stream aborted'), timeoutReason(ctrl));
      }
      if (next.done) return;
      yield next.value;
    }
  } finally {
    clearTimeout(timer);
  }
}
