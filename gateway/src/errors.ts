import { ErrorCode } from '@switchboard/protocol';

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

export const badRequest = (message: string) => new GatewayError(ErrorCode.badFrame, message);
export const unauthorized = (message = 'authentication required') => new GatewayError(ErrorCode.unauthorized, message);
export const notFound = (what = 'not found') => new GatewayError(ErrorCode.notFound, what);
