import { startGateway } from './app.js';
import { createBackends } from './backends/index.js';
import { ConfigError, loadConfig } from './config.js';
import { createLogger } from './logger.js';

/** The entry point: the only place that reads `process.env`. */
async function main(): Promise<void> {
  const t0 = performance.now();
  let config;
  try {
    config = loadConfig(process.env);
  } catch (e) {
    if (e instanceof ConfigError) {
      console.error(e.message);
      process.exit(78);
    }
    throw e;
  }
  const logger = createLogger({ level: config.LOG_LEVEL, format: config.LOG_FORMAT, env: config.APP_ENV });
  const backends = await createBackends(config, logger);
  const gateway = await startGateway(config, backends, logger);
  logger.info(`ready in ${Math.round(performance.now() - t0)} ms — open ${gateway.url}/`, { transport: gateway.transport });

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info('draining', { signal });
    gateway.stop().then(
      () => process.exit(0),
      (e) => {
        logger.error('stop failed', { error: String(e) });
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('unhandledRejection', (e) => logger.error('unhandled rejection', { error: e instanceof Error ? e.stack : String(e) }));
}

void main().catch((e) => {
  console.error(e);
  process.exit(1);
});
