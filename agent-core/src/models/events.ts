/** Events the model chain reports through `onEvent` (for metrics and logs). */
import type { AttemptFailureKind } from './errors.js';

export type ModelChainEvent =
  /** An HTTP request to a model is about to be sent (`attempt` is 1-based per model and request). */
  | { type: 'attempt'; model: string; attempt: number }
  /** The first token arrived; `latencyMs` is measured from the start of this attempt. */
  | { type: 'first-token'; model: string; attempt: number; latencyMs: number }
  /** An attempt failed. */
  | { type: 'failure'; model: string; reason: AttemptFailureKind; status?: number; afterFirstToken: boolean; message: string }
  /** A retry on the same model will follow after `delayMs`. */
  | { type: 'retry'; model: string; attempt: number; delayMs: number; reason: AttemptFailureKind; status?: number }
  /** The request moves on from `from` to the next model `to`. */
  | { type: 'fallback'; from: string; to: string; reason: AttemptFailureKind }
  /** A model's circuit breaker changed state. */
  | { type: 'breaker'; model: string; state: 'closed' | 'open' | 'half-open' };

export type ModelChainEventListener = (event: ModelChainEvent) => void;
