/**
 * Typed errors of the agent core. Every failure that reaches a consumer carries a stable code;
 * the codes are a subset of the wire protocol's error codes, so the gateway maps them 1:1.
 */

/** Stable error codes the agent reports in `error` and `done` events. */
export const AgentErrorCode = {
  /** The chat model (or every model of a fallback chain) failed. */
  ModelUnavailable: 'model_unavailable',
  /** A tool failed in a way that ended the run (tool errors normally go back to the model). */
  ToolFailed: 'tool_failed',
  /** Anything else: a bug or an unexpected state. */
  Internal: 'internal',
} as const;

export type AgentErrorCode = (typeof AgentErrorCode)[keyof typeof AgentErrorCode];

const KNOWN_CODES = new Set<string>(Object.values(AgentErrorCode));

/** An error with a stable code and a hint whether retrying the same request may succeed. */
export class AgentError extends Error {
  override readonly name: string = 'AgentError';
  readonly code: AgentErrorCode;
  readonly retryable: boolean;

  constructor(code: AgentErrorCode, message: string, options: { cause?: unknown; retryable?: boolean } = {}) {
    super(message, { cause: options.cause });
    this.code = code;
    this.retryable = options.retryable ?? code === AgentErrorCode.ModelUnavailable;
  }
}

/** The message of anything thrown, without assuming it is an Error. */
export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message || error.name;
  if (typeof error === 'string') return error;
  try {
    return JSON.stringify(error) ?? String(error);
  } catch {
    return String(error);
  }
}

/**
 * Normalises anything thrown into an AgentError. Errors that already carry a known `code`
 * (e.g. from a model fallback chain) keep it and their `retryable` flag; others get `fallback`.
 */
export function toAgentError(error: unknown, fallback: AgentErrorCode): AgentError {
  if (error instanceof AgentError) return error;
  if (typeof error === 'object' && error !== null) {
    const { code, retryable } = error as { code?: unknown; retryable?: unknown };
    if (typeof code === 'string' && KNOWN_CODES.has(code)) {
      return new AgentError(code as AgentErrorCode, errorMessage(error), {
        cause: error,
        retryable: typeof retryable === 'boolean' ? retryable : undefined,
      });
    }
  }
  return new AgentError(fallback, errorMessage(error), { cause: error });
}

/** True for the errors fetch, LangChain and LangGraph throw when an AbortSignal fires. */
export function isAbortError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const name = (error as { name?: unknown }).name;
  return name === 'AbortError' || name === 'ModelAbortError';
}
