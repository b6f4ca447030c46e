/** The gateway: start it on embedded defaults or real backends. */
export { startGateway } from './app.js';
export { createBackends } from './backends/index.js';
export { ConfigError, loadConfig } from './config.js';
export { createLogger } from './logger.js';
export type { Gateway } from './app.js';
export type { AgentBackend, BackendOverrides, Backends } from './backends/index.js';
export type { Config } from './config.js';
export type { Logger } from './logger.js';
