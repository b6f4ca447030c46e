import { ErrorCode, type ErrorFrame } from '@switchboard/protocol';
import { StorageError, StorageErrorCode } from './backends/postgres/errors.js';

const STATUS: Record<ErrorCode, number> = {
  bad_frame: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  busy: 409,
  conflict: 409,
  rate_limited: 429,
  quota_exceeded: 429,
  too_large: 413,
  model_unavailable: 503,
  tool_failed: 500,
  resume_expired: 401,
  replay_gap: 409,
  node_lost: 503,
  internal: 500,
};

/** A failure with a stable protocol code; becomes an `error` frame or an HTTP body in one place each. */
export class GatewayError extends Error {
  override name = 'GatewayError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly options: { retryable?: boolean; retryAfterMs?: number; cause?: unknown } = {},
  ) {
    super(message, { cause: options.cause });
  }
  get status(): number {
    return STATUS[this.code];
  }
  get retryable(): boolean {
    return this.options.retryable ?? (this.code === 'rate_limited' || this.code === 'busy' || this.code === 'internal');
  }
}

/** Storage failures the caller can act on, as protocol codes; the rest are internal. */
const STORAGE_CODES: Partial<Record<StorageErrorCode, ErrorCode>> = {
  [StorageErrorCode.InvalidInput]: ErrorCode.badFrame,
  [StorageErrorCode.NotFound]: ErrorCode.notFound,
  [StorageErrorCode.Conflict]: ErrorCode.conflict,
};

/**
 * The one map from any error to a protocol error (and so to an HTTP status): a `GatewayError` as
 * it is, a storage error by its code (invalid input 400, not found 404, conflict 409), anything
 * else `internal` (500) with its message hidden. Callers log what maps to a 5xx.
 * @example
 * const err = toGatewayError(e);
 * if (err.status >= 500) logger.error('request failed', { error: String(e) });
 */
export function toGatewayError(e: unknown): GatewayError {
  if (e instanceof GatewayError) return e;
  if (e instanceof StorageError) {
    const code = STORAGE_CODES[e.code];
    if (code) return new GatewayError(code, e.message, { cause: e, retryable: false });
  }
  return new GatewayError(ErrorCode.internal, 'internal error', { cause: e });
}

/** A protocol error as the `error` frame a socket receives. */
export function toErrorFrame(e: GatewayError, ids: { ref?: string; sessionId?: string } = {}): ErrorFrame {
  return {
    type: 'error',
    code: e.code,
    message: e.message,
    retryable: e.retryable,
    ref: ids.ref,
    sessionId: ids.sessionId,
    retryAfterMs: e.options.retryAfterMs,
  };
}
