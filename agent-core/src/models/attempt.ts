/**
 * One attempt against one model: start the request, wait for the first token under a
 * first-token timer, then pass every piece straight to the caller's sink under an idle timer.
 *
 * Per token this costs one timestamp: the idle timer is a single timeout that, when it fires,
 * compares the time since the last piece with the limit and sleeps again for the rest (no
 * re-arming per token, no AbortSignal per token).
 */
import { AttemptTimeout, classifyAttemptError } from './attempt-error.js';
import type { AnswerSink, ChatClient, ChatRequest, StreamSink } from './chat-client.js';

export interface AttemptOptions {
  firstTokenTimeoutMs: number;
  idleTimeoutMs: number;
  /** The caller's signal: aborting it cancels the HTTP request; the attempt rejects with its reason. */
  signal: AbortSignal | undefined;
  /** Called once, synchronously, when the first token (or the end of an empty answer) arrives. */
  onFirstToken(): void;
}

type Pending =
  | { kind: 'usage'; input: number; output: number }
  | { kind: 'finish'; reason: string };

/**
 * Runs the attempt to its end. Pieces before the first token are held back (and dropped if the
 * attempt fails); from the first token on they go to `sink` as they arrive. Rejects with an
 * `AttemptError` (marked `afterFirstToken` once a token went out) or the caller's abort reason.
 */
export function runAttempt(client: ChatClient, request: ChatRequest, sink: AnswerSink, options: AttemptOptions): Promise<void> {
  const { signal } = options;
  if (signal?.aborted) return Promise.reject(signal.reason);
  return new Promise<void>((resolve, reject) => {
    let started = false;
    let done = false;
    let held: Pending[] | undefined;
    let lastPieceAt = 0;
    let timedOut: AttemptTimeout | undefined;
    let cancel: (reason?: unknown) => void = () => undefined;
    const firstTokenMs = Math.max(1, Math.floor(options.firstTokenTimeoutMs));
    const idleMs = Math.max(1, Math.floor(options.idleTimeoutMs));

    const settle = (err?: unknown): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      if (err === undefined) resolve();
      else reject(err);
    };
    const onAbort = (): void => {
      cancel(signal?.reason);
      settle(signal?.reason);
    };
    const onTimer = (): void => {
      if (done) return;
      if (started) {
        const quiet = performance.now() - lastPieceAt;
        if (quiet < idleMs) {
          timer = setTimeout(onTimer, idleMs - quiet);
          return;
        }
        timedOut = new AttemptTimeout('idle_timeout', idleMs);
      } else {
        timedOut = new AttemptTimeout('first_token_timeout', firstTokenMs);
      }
      cancel(timedOut);
      settle(classifyAttemptError(new Error(timedOut.message), timedOut).afterToken(started));
    };
    const begin = (): void => {
      started = true;
      lastPieceAt = performance.now();
      clearTimeout(timer);
      timer = setTimeout(onTimer, idleMs);
      options.onFirstToken();
      if (held) {
        for (const piece of held) {
          if (piece.kind === 'usage') sink.usage(piece.input, piece.output);
          else sink.finish(piece.reason);
        }
        held = undefined;
      }
    };

    const streamSink: StreamSink = {
      text(text) {
        if (done) return;
        if (started) lastPieceAt = performance.now();
        else begin();
        sink.text(text);
      },
      toolCall(index, id, name, args) {
        if (done) return;
        if (started) lastPieceAt = performance.now();
        else begin();
        sink.toolCall(index, id, name, args);
      },
      usage(input, output) {
        if (done) return;
        if (started) {
          lastPieceAt = performance.now();
          sink.usage(input, output);
        } else (held ??= []).push({ kind: 'usage', input, output });
      },
      finish(reason) {
        if (done) return;
        if (started) {
          lastPieceAt = performance.now();
          sink.finish(reason);
        } else (held ??= []).push({ kind: 'finish', reason });
      },
      end() {
        if (done) return;
        if (!started) begin(); // an empty answer: nothing to wait for
        settle();
      },
      error(err) {
        if (done) return;
        settle(classifyAttemptError(err, timedOut).afterToken(started));
      },
    };

    let timer = setTimeout(onTimer, firstTokenMs);
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      cancel = client.start(request, streamSink);
    } catch (err) {
      settle(classifyAttemptError(err));
    }
  });
}
