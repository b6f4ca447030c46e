import type { ErrorCode } from './codes.js';
import type { ErrorFrame } from './frames.js';

/** Codes of {@link SwitchboardError}: the protocol's error codes plus `closed` (the socket closed). */
export type SwitchboardErrorCode = ErrorCode | 'closed';

/**
 * A client error: an `error` frame from the server, a refused request, a check that failed
 * before sending, or a closed socket (`code: 'closed'`, with `closeCode`).
 * @example
 * try { client.send({ sessionId, text }); } catch (e) { if (e instanceof SwitchboardError && e.code === 'too_large') warn(e.message); }
 */
export class SwitchboardError extends Error {
  override name = 'SwitchboardError';
  constructor(
    message: string,
    readonly code: SwitchboardErrorCode | (string & {}),
    readonly frame?: ErrorFrame,
    readonly closeCode?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
  /** True when trying again later can succeed. */
  get retryable(): boolean {
    return this.frame?.retryable ?? (this.code === 'closed' || this.code === 'rate_limited' || this.code === 'internal');
  }
}
