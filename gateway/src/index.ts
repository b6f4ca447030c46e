/** The gateway: start it on embedded defaults or real backends. */
export { startGateway } from './app.js';
export { createBackends } from './backends/index.js';
export { ConfigError, loadConfig } from './config.js';
export { createLogger } from './logger.js';
export { createRouter } from './costs/router.js';
export type { RouteDecision, RouteRule, RouterOptions } from './costs/router.js';
export { createScoreSink, feedbackScore, FEEDBACK_SCORE_NAME, langfuseKeysFrom } from './observability/scores.js';
export type { Gateway } from './app.js';
export type { AgentBackend, BackendOverrides, Backends } from './backends/index.js';
export type { Config } from './config.js';
export type { Logger } from './logger.js';
export type { LangfuseKeys, Score, ScoreSink, ScoreSinkOptions } from './observability/scores.js';
