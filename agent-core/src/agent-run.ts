/**
 * One turn of the agent as an async iterator written by hand: while the model streams, each
 * `next()` takes the next signal from the run's queue and answers with one promise (already
 * resolved when the signal was waiting), instead of an async generator's awaits per `yield`.
 * Events, their order and the cleanup are those of the generator it replaces.
 */
import { HumanMessage } from '@langchain/core/messages';
import { AgentError, AgentErrorCode, toAgentError } from './errors.js';
import type { AgentEvent, DoneEvent, DoneReason, TokenUsage } from './events.js';
import type { buildAgentGraph, GraphSignal } from './graph.js';
import type { AgentStreamInput } from './agent-options.js';
import { SignalQueue } from './signal-queue.js';
import { CHARS_PER_TOKEN } from './tokens.js';

/** What a run needs from the agent that starts it. */
export interface AgentRunDeps {
  graph: ReturnType<typeof buildAgentGraph>;
  maxToolRounds: number;
  durability: 'async' | 'sync' | 'exit';
  /** The name reported in `done` when no model named itself. */
  modelName: string;
  recallMemories(input: AgentStreamInput, signal: AbortSignal): Promise<string>;
  afterTurn(input: AgentStreamInput, answer: string): void;
}

const END: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined });

function validateInput(input: AgentStreamInput): void {
  for (const key of ['sessionId', 'userId', 'runId'] as const) {
    if (typeof input[key] !== 'string' || input[key] === '') {
      throw new AgentError(AgentErrorCode.Internal, `stream() needs a non-empty ${key}`);
    }
  }
  if (typeof input.text !== 'string') throw new AgentError(AgentErrorCode.Internal, 'stream() needs text');
}

/**
 * Yields tokens and tool events and always ends with exactly one `done`; never rejects. Leaving
 * early (`return()`, as `break` in `for await` does) aborts the graph. One `next()` at a time.
 */
export class AgentRun implements AsyncIterableIterator<AgentEvent> {
  private readonly controller = new AbortController();
  private readonly onAbort = (): void => this.controller.abort(this.input.signal?.reason);
  private queue: SignalQueue<GraphSignal> | undefined;
  private starting: Promise<void> | undefined;
  /** The events after the stream (tool ends of a cancelled run, error, done), once it ended. */
  private tail: AgentEvent[] | undefined;
  private tailAt = 0;
  private started = false;
  private closed = false;

  private reason: DoneReason = 'stop';
  private failure: AgentError | undefined;
  private usage: TokenUsage | undefined;
  private model: string | undefined;
  private answer = '';
  private unfinishedChars = 0;
  private readonly openCalls = new Map<string, string>();

  constructor(
    private readonly input: AgentStreamInput,
    private readonly deps: AgentRunDeps,
  ) {}

  [Symbol.asyncIterator](): this {
    return this;
  }

  next(): Promise<IteratorResult<AgentEvent>> {
    if (this.closed) return Promise.resolve(END);
    if (!this.started) {
      this.started = true;
      this.starting = this.begin();
    }
    if (this.starting) return this.starting.then(() => this.pull() ?? this.waitForSignal());
    return Promise.resolve(this.pull() ?? this.waitForSignal());
  }

  return(): Promise<IteratorResult<AgentEvent>> {
    this.close();
    return Promise.resolve(END);
  }

  private async begin(): Promise<void> {
    const { input, controller } = this;
    if (input.signal?.aborted) controller.abort(input.signal.reason);
    input.signal?.addEventListener('abort', this.onAbort, { once: true });
    try {
      validateInput(input);
      controller.signal.throwIfAborted();
      const memoryContext = await this.deps.recallMemories(input, controller.signal);
      // The nodes write straight into this run's queue: no LangGraph stream per token.
      const queue = new SignalQueue<GraphSignal>();
      // LangGraph keeps a writer given in the run's config (and hands it to every node).
      const runConfig = {
        configurable: { thread_id: input.sessionId, sessionId: input.sessionId, userId: input.userId, runId: input.runId },
        streamMode: 'custom' as const,
        writer: queue.push,
        signal: controller.signal,
        recursionLimit: this.deps.maxToolRounds * 2 + 10,
        durability: this.deps.durability,
      };
      this.deps.graph
        .stream({ messages: [new HumanMessage(input.text)], memoryContext, toolRounds: 0, limitReached: false }, runConfig)
        .then(async (events) => {
          for await (const _ of events); // nothing arrives here: the writer is ours
        })
        .then(
          () => queue.close(),
          (error: unknown) => queue.close({ error }),
        );
      this.queue = queue;
    } catch (error) {
      this.ended(error);
    } finally {
      this.starting = undefined;
    }
  }

  /** One promise, resolved by the queue's next push (or close). */
  private waitForSignal(): Promise<IteratorResult<AgentEvent>> {
    return new Promise((resolve) => {
      const queue = this.queue!;
      const ready = (): void => {
        const result = this.closed ? END : this.pull();
        if (result) resolve(result);
        else queue.whenReady(ready);
      };
      queue.whenReady(ready);
    });
  }

  /** The next result, or `undefined` while the run's queue is empty. */
  private pull(): IteratorResult<AgentEvent> | undefined {
    if (!this.tail) {
      const event = this.nextStreamed();
      if (event) return { done: false, value: event };
      if (!this.tail) return undefined;
    }
    if (this.tailAt < this.tail.length) {
      const event = this.tail[this.tailAt++];
      if (event.type === 'done' && this.reason === 'stop') this.deps.afterTurn(this.input, this.answer);
      return { done: false, value: event };
    }
    this.close();
    return END;
  }

  /** The next event from the graph; at its end, builds the tail and returns `undefined`. */
  private nextStreamed(): AgentEvent | undefined {
    const queue = this.queue;
    if (!queue) {
      if (!this.tail) this.ended(undefined);
      return undefined;
    }
    try {
      while (!queue.done) {
        const signal = queue.take();
        if (signal === undefined) return undefined;
        if (signal.type === 'token') {
          this.unfinishedChars += signal.text.length;
          return signal;
        }
        if (signal.type === 'tool') {
          if (signal.event.type === 'tool-start') this.openCalls.set(signal.event.callId, signal.event.name);
          else this.openCalls.delete(signal.event.callId);
          return signal.event;
        }
        if (signal.type === 'model-end') {
          this.usage = {
            inputTokens: (this.usage?.inputTokens ?? 0) + signal.usage.inputTokens,
            outputTokens: (this.usage?.outputTokens ?? 0) + signal.usage.outputTokens,
          };
          this.model = signal.model ?? this.model;
          this.answer = signal.text;
          this.unfinishedChars = 0;
        } else if (signal.type === 'limit') {
          this.reason = 'length';
        } else if (signal.type === 'model-start') {
          return signal;
        }
      }
      if (this.controller.signal.aborted) this.reason = 'cancelled';
      this.ended(undefined);
    } catch (error) {
      this.ended(error);
    }
    return undefined;
  }

  /** The stream is over (`error` when it threw): the closing events are fixed now. */
  private ended(error: unknown): void {
    if (error !== undefined) {
      if (this.controller.signal.aborted) {
        this.reason = 'cancelled';
      } else {
        this.reason = 'error';
        this.failure = toAgentError(error, AgentErrorCode.Internal);
      }
    }
    let usage = this.usage;
    if (this.unfinishedChars > 0) {
      usage = { inputTokens: usage?.inputTokens ?? 0, outputTokens: (usage?.outputTokens ?? 0) + Math.ceil(this.unfinishedChars / CHARS_PER_TOKEN) };
    }
    const { reason, failure } = this;
    const tail: AgentEvent[] = [];
    if (reason === 'cancelled') {
      for (const [callId, name] of this.openCalls) tail.push({ type: 'tool-end', callId, name, error: 'cancelled' });
    }
    if (failure) tail.push({ type: 'error', code: failure.code, message: failure.message, retryable: failure.retryable });
    const done: DoneEvent = { type: 'done', reason, model: this.model ?? this.deps.modelName };
    if (usage) done.usage = usage;
    if (failure) done.error = { code: failure.code, message: failure.message };
    tail.push(done);
    this.tail = tail;
  }

  private close(): void {
    if (this.closed) return;
    this.closed = true;
    if (!this.started) return;
    this.input.signal?.removeEventListener('abort', this.onAbort);
    this.controller.abort(); // stops the graph when the consumer leaves early
  }
}
