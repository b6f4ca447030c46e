/** The gateway: start it on embedded defaults or real backends. */
export { startGateway } from './app.js';
export { createBackends } from './backends.js';
export { ConfigError, loadConfig } from './config.js';
export { createLogger } from './logger.js';
export type { Gateway, GatewayBackends } from './app.js';
export type { BackendOverrides } from './backends.js';
export type { Config } from './config.js';
export type { Logger } from './logger.js';
