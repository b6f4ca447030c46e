export { ModelChain, createModelChain } from './model-chain.js';
export { parseModelsConfig, REQUIRED_TIERS } from './config.js';
export {
  AttemptFailureKind,
  ModelErrorCode,
  ModelUnavailableError,
  ModelsConfigError,
  isModelUnavailableError,
} from './errors.js';
export { modelSpecDefaults } from './model-spec.js';
export { ModelClientKind } from './chat-client.js';
export type { ModelChainCallOptions, ModelChainOptions, ModelChainStats, StreamAnswerOptions } from './model-chain.js';
export type { StreamedAnswer, StreamedToolCall } from './answer.js';
export type { ModelsConfig } from './config.js';
export type { ModelFailureSummary } from './errors.js';
export type { ModelChainEvent, ModelChainEventListener } from './events.js';
export type { ModelSpec, TierSpec } from './model-spec.js';
export type { BreakerState } from './model-slot.js';
