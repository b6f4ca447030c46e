export { createAgent } from './agent.js';
export { AGENT_DEFAULTS } from './agent-options.js';
export { AGENT_ENGINES } from './engine.js';
export { AgentError, AgentErrorCode } from './errors.js';
export { AgentEventType, DoneReason } from './events.js';
export { createLocalModel, LOCAL_MODEL_NAME } from './local-model.js';
export { loadPrompt, renderPrompt, promptPlaceholders, PromptError } from './prompts.js';
export { estimateMessageTokens, estimateMessagesTokens, estimateTextTokens } from './tokens.js';
export { repairToolPairs, trimMessagesToBudget } from './trim.js';
export { calculatorTool } from './tools/calculator.js';
export { clockTool, createClockTool } from './tools/clock.js';
export { evaluateExpression, ExpressionError, ExpressionErrorCode, MAX_EXPRESSION_LENGTH } from './tools/expression.js';
export {
  AttemptFailureKind,
  createModelChain,
  isModelUnavailableError,
  ModelChain,
  ModelClientKind,
  ModelErrorCode,
  ModelsConfigError,
  modelSpecDefaults,
  ModelUnavailableError,
  parseModelsConfig,
} from './models/index.js';
export {
  cosineSimilarity,
  createInMemoryStore,
  createLocalEmbedder,
  createMemory,
  createMemoryTools,
  createOpenAIEmbedder,
  createRuleFactExtractor,
  EmbeddingError,
  extractFacts,
  recallSchema,
  rememberSchema,
} from './memory/index.js';

export type { Agent } from './agent.js';
export type { AgentEngineName } from './engine.js';
export type { AfterTurnInput, AgentLogger, AgentMemory, AgentOptions, AgentStreamInput } from './agent-options.js';
export type {
  AgentEvent,
  DoneEvent,
  ErrorEvent,
  ModelStartEvent,
  TokenEvent,
  TokenUsage,
  ToolEndEvent,
  ToolStartEvent,
} from './events.js';
export type { LocalModelOptions } from './local-model.js';
export type { TrimOptions } from './trim.js';
export type { ClockToolOptions } from './tools/clock.js';

export * from './models/index.js';
export * from './memory/index.js';
export type {
  BreakerState,
  ModelChainCallOptions,
  ModelChainEvent,
  ModelChainEventListener,
  ModelChainOptions,
  ModelChainStats,
  ModelFailureSummary,
  StreamAnswerOptions,
  StreamedAnswer,
  StreamedToolCall,
  ModelsConfig,
  ModelSpec,
  TierSpec,
} from './models/index.js';
export type {
  Embedder,
  FactExtractor,
  LocalEmbedderOptions,
  Memory,
  MemoryHit,
  MemoryLogger,
  MemoryOptions,
  MemoryRecord,
  MemoryStats,
  MemoryStore,
  OpenAIEmbedderOptions,
  RememberResult,
  TurnInput,
} from './memory/index.js';
