/**
 * Typed errors of the model provider chain. `ModelUnavailableError` is the only one that leaves
 * the chain during a run; `ModelsConfigError` is thrown at start for bad configuration.
 */

/** Stable codes of the errors in this module. */
export const ModelErrorCode = {
  modelUnavailable: 'model_unavailable',
  invalidConfig: 'invalid_config',
} as const;
export type ModelErrorCode = (typeof ModelErrorCode)[keyof typeof ModelErrorCode];

/** Why one model's attempt failed (internal classification, also reported in events). */
export const AttemptFailureKind = {
  http: 'http',
  network: 'network',
  firstTokenTimeout: 'first_token_timeout',
  idleTimeout: 'idle_timeout',
  budget: 'budget_exhausted',
  malformed: 'malformed',
  circuitOpen: 'circuit_open',
  other: 'other',
} as const;
export type AttemptFailureKind = (typeof AttemptFailureKind)[keyof typeof AttemptFailureKind];

/** One model's failure, as summarised in a `ModelUnavailableError`. */
export interface ModelFailureSummary {
  /** Configured name of the model. */
  model: string;
  kind: AttemptFailureKind;
  /** HTTP status, when the provider answered with one. */
  status?: number;
  message: string;
}

/**
 * No model could produce (or finish) an answer. `retryable` is always true: the client may
 * send again later. `afterFirstToken` tells whether part of an answer had already been streamed.
 */
export class ModelUnavailableError extends Error {
  readonly code = ModelErrorCode.modelUnavailable;
  readonly retryable = true;
  readonly afterFirstToken: boolean;
  /** The model that failed last (the one that was streaming when `afterFirstToken`). */
  readonly model: string | undefined;
  /** What each tried model failed with, in chain order. */
  readonly failures: readonly ModelFailureSummary[];
  /** The smallest `Retry-After` a provider sent, if any (a hint for the client). */
  readonly retryAfterMs: number | undefined;

  constructor(init: {
    message: string;
    afterFirstToken: boolean;
    failures: ModelFailureSummary[];
    retryAfterMs?: number;
    cause?: unknown;
  }) {
    super(init.message, { cause: init.cause });
    this.name = 'ModelUnavailableError';
    this.afterFirstToken = init.afterFirstToken;
    this.failures = init.failures;
    this.model = init.failures[init.failures.length - 1]?.model;
    this.retryAfterMs = init.retryAfterMs;
  }
}

/** `LLM_MODELS` / `OPENAI_*` configuration that cannot be used; `variable` names the culprit. */
export class ModelsConfigError extends Error {
  readonly code = ModelErrorCode.invalidConfig;
  readonly variable: string;

  constructor(variable: string, message: string, options?: { cause?: unknown }) {
    super(`${variable}: ${message}`, options);
    this.name = 'ModelsConfigError';
    this.variable = variable;
  }
}

export function isModelUnavailableError(err: unknown): err is ModelUnavailableError {
  return err instanceof ModelUnavailableError;
}
