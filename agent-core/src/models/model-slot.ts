/**
 * One model of the chain: its client (lean or ChatOpenAI), its circuit breaker (created once, shared by
 * every request of the process) and its counters; and the per-request retry policy.
 */
import {
  CircuitState,
  ConsecutiveBreaker,
  circuitBreaker,
  handleWhen,
  retry,
  type CircuitBreakerPolicy,
  type IBackoff,
  type IRetryBackoffContext,
  type RetryPolicy,
} from 'cockatiel';
import { AttemptError } from './attempt-error.js';
import type { ChatClient } from './chat-client.js';
import { createLangChainClient } from './langchain-client.js';
import { createLeanClient } from './lean-client.js';
import type { ModelChainEvent } from './events.js';
import { resolveModelSpec, type ModelSpec, type ResolvedModelSpec } from './model-spec.js';

export type BreakerState = 'closed' | 'open' | 'half-open';

export function breakerStateName(state: CircuitState): BreakerState {
  if (state === CircuitState.Closed) return 'closed';
  if (state === CircuitState.HalfOpen) return 'half-open';
  return 'open';
}

/** Counters of one model since the chain was created. */
export interface ModelCounters {
  /** Attempts sent to the model (HTTP requests). */
  calls: number;
  /** Attempts that failed (any reason but the caller's cancellation). */
  failures: number;
  /** Retries on this model (attempts after the first, per request). */
  retries: number;
  /** Requests that moved on from this model to the next one. */
  fallbacksFrom: number;
  /** Requests that skipped the model because its breaker was open (or half-open, busy). */
  shortCircuited: number;
}

export class ModelSlot {
  readonly spec: ResolvedModelSpec;
  readonly client: ChatClient;
  readonly breaker: CircuitBreakerPolicy;
  readonly counters: ModelCounters = { calls: 0, failures: 0, retries: 0, fallbacksFrom: 0, shortCircuited: 0 };

  constructor(spec: ModelSpec, private readonly emit: (event: ModelChainEvent) => void) {
    this.spec = resolveModelSpec(spec);
    this.client = this.spec.client === 'langchain' ? createLangChainClient(this.spec) : createLeanClient(this.spec);
    this.breaker = circuitBreaker(
      handleWhen((err) => err instanceof AttemptError && err.countsForBreaker),
      { halfOpenAfter: this.spec.halfOpenAfterMs, breaker: new ConsecutiveBreaker(this.spec.breakerThreshold) },
    );
    this.breaker.onStateChange((state) =>
      this.emit({ type: 'breaker', model: this.spec.name, state: breakerStateName(state) }),
    );
  }

  get name(): string {
    return this.spec.name;
  }

  get breakerState(): BreakerState {
    return breakerStateName(this.breaker.state);
  }

  /** Backoff before retry `attempt` (1-based): Retry-After if given, else exponential with jitter. */
  delayFor(err: AttemptError, attempt: number): number | undefined {
    if (err.retryAfterMs !== undefined) {
      return err.retryAfterMs <= this.spec.maxRetryAfterMs ? err.retryAfterMs : undefined;
    }
    const exp = Math.min(this.spec.retryMaxDelayMs, this.spec.retryBaseDelayMs * 2 ** (attempt - 1));
    return Math.round(exp * (0.5 + Math.random() / 2));
  }

  /**
   * A retry policy for one request: retries retryable failures while the delay fits in the
   * request's deadline. Cheap to build; holds no state shared across requests. Its `retry`
   * events go to `emit`, the request's emitter (the chain's listener and the request's own).
   */
  retryPolicy(deadline: number, signal: AbortSignal | undefined, emit: (event: ModelChainEvent) => void = this.emit): RetryPolicy {
    let attempt = 0;
    let nextDelay = 0;
    const backoff: IBackoff<IRetryBackoffContext<unknown>> = {
      get duration() {
        return nextDelay;
      },
      next: () => backoff,
    };
    const policy = retry(
      handleWhen((err) => {
        if (!(err instanceof AttemptError) || !err.retryable || signal?.aborted) return false;
        const delay = this.delayFor(err, ++attempt);
        if (delay === undefined || Date.now() + delay >= deadline) return false;
        nextDelay = delay;
        return true;
      }),
      { maxAttempts: this.spec.maxRetries, backoff },
    ).dangerouslyUnref();
    policy.onRetry((event) => {
      this.counters.retries++;
      const error = 'error' in event && event.error instanceof AttemptError ? event.error : undefined;
      emit({
        type: 'retry',
        model: this.name,
        attempt: event.attempt + 1,
        delayMs: event.delay,
        reason: error?.kind ?? 'other',
        status: error?.status,
      });
    });
    return policy;
  }
}
