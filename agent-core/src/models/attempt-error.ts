/**
 * Classification of one attempt's failure: may it be retried, does it count against the
 * model's circuit breaker, and did the provider ask us to wait (`Retry-After`)?
 */
import { isBrokenCircuitError } from 'cockatiel';
import { AttemptFailureKind, type ModelFailureSummary } from './errors.js';

/** A failed attempt against one model. Internal to the chain. */
export class AttemptError extends Error {
  readonly kind: AttemptFailureKind;
  readonly status: number | undefined;
  /** Worth another attempt at the same model. */
  readonly retryable: boolean;
  /** A sign the model is unhealthy (counted by its circuit breaker). */
  readonly countsForBreaker: boolean;
  /** The provider's `Retry-After` / `retry-after-ms`, in ms. */
  readonly retryAfterMs: number | undefined;
  /** Failed after tokens were streamed (never retried, never falls back). */
  readonly afterFirstToken: boolean;

  constructor(init: {
    kind: AttemptFailureKind;
    message: string;
    status?: number;
    retryable: boolean;
    countsForBreaker: boolean;
    retryAfterMs?: number;
    afterFirstToken?: boolean;
    cause?: unknown;
  }) {
    super(init.message, { cause: init.cause });
    this.name = 'AttemptError';
    this.kind = init.kind;
    this.status = init.status;
    this.retryable = init.retryable && !init.afterFirstToken;
    this.countsForBreaker = init.countsForBreaker;
    this.retryAfterMs = init.retryAfterMs;
    this.afterFirstToken = init.afterFirstToken ?? false;
  }

  summary(model: string): ModelFailureSummary {
    return { model, kind: this.kind, status: this.status, message: this.message };
  }

  /** The same failure, marked as happening after the first token (when `after`). */
  afterToken(after = true): AttemptError {
    if (!after || this.afterFirstToken) return this;
    return new AttemptError({ ...this, message: this.message, afterFirstToken: true, cause: this.cause });
  }
}

/** Our own timeouts: the reason we abort an attempt's HTTP request with. */
export class AttemptTimeout extends Error {
  constructor(
    readonly kind: typeof AttemptFailureKind.firstTokenTimeout | typeof AttemptFailureKind.idleTimeout,
    readonly ms: number,
  ) {
    super(`${kind === 'first_token_timeout' ? 'no first token' : 'no token'} within ${ms}ms`);
    this.name = 'AttemptTimeout';
  }
}

const NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_CLOSED',
]);

function headerOf(err: object, name: string): string | undefined {
  const headers = (err as { headers?: unknown }).headers;
  if (!headers || typeof headers !== 'object') return undefined;
  if (typeof (headers as Headers).get === 'function') return (headers as Headers).get(name) ?? undefined;
  const value = (headers as Record<string, unknown>)[name];
  return typeof value === 'string' ? value : undefined;
}

/** Parses `retry-after-ms`, then `Retry-After` (seconds or an HTTP date), into ms. */
export function retryAfterMsOf(err: unknown, now = Date.now()): number | undefined {
  if (!err || typeof err !== 'object') return undefined;
  const ms = headerOf(err, 'retry-after-ms');
  if (ms !== undefined && Number.isFinite(Number(ms)) && Number(ms) >= 0) return Number(ms);
  const value = headerOf(err, 'retry-after');
  if (value === undefined || value.trim() === '') return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return seconds >= 0 ? seconds * 1000 : undefined;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

function causeChainHasNetworkCode(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e && typeof e === 'object' && depth < 5; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && NETWORK_CODES.has(code)) return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

/**
 * Classifies an error thrown by one attempt. `timeout` is the reason our own timer aborted
 * the attempt with, if it did.
 */
export function classifyAttemptError(err: unknown, timeout?: AttemptTimeout): AttemptError {
  if (err instanceof AttemptError) return err;
  if (timeout) {
    return new AttemptError({ kind: timeout.kind, message: timeout.message, retryable: true, countsForBreaker: true, cause: err });
  }
  const message = err instanceof Error ? err.message : String(err);
  if (isBrokenCircuitError(err)) {
    return new AttemptError({ kind: 'circuit_open', message: 'circuit breaker open', retryable: false, countsForBreaker: false, cause: err });
  }
  const status = err && typeof err === 'object' ? (err as { status?: unknown }).status : undefined;
  if (typeof status === 'number') {
    const transient = status === 408 || status === 409 || status === 429 || status >= 500;
    return new AttemptError({
      kind: 'http',
      status,
      message,
      retryable: transient,
      // 4xx other than the transient ones are about this request, not the model's health.
      countsForBreaker: transient || status === 401 || status === 403 || status === 404,
      retryAfterMs: retryAfterMsOf(err),
      cause: err,
    });
  }
  if (err instanceof SyntaxError) {
    return new AttemptError({ kind: 'malformed', message: `malformed response: ${message}`, retryable: true, countsForBreaker: true, cause: err });
  }
  const name = err instanceof Error ? err.name : '';
  if (
    name === 'APIConnectionError' ||
    name === 'APIConnectionTimeoutError' ||
    name === 'TimeoutError' ||
    causeChainHasNetworkCode(err) ||
    (err instanceof TypeError && /terminated|fetch failed|socket|network/i.test(message))
  ) {
    return new AttemptError({ kind: 'network', message, retryable: true, countsForBreaker: true, cause: err });
  }
  return new AttemptError({ kind: 'other', message, retryable: false, countsForBreaker: false, cause: err });
}
