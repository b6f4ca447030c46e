import { ConfigError, loadConfig } from './config.js';
import { createLogger } from './logger.js';
import { StartupError, waitForDependencies } from './startup.js';

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
  let backends;
  try {
    await waitForDependencies(config, logger);
    // The gateway's heavy libraries (agent, database, transports) load only once the configuration holds.
    const { createBackends } = await import('./backends/index.js');
    backends = await createBackends(config, logger);
  } catch (e) {
    if (e instanceof StartupError) {
      console.error(e.message);
      process.exit(78);
    }
    // Reached a moment ago but failed while opening (e.g. a migration): still one line, no stack.
    const storageError = e instanceof Error && /^(StorageUnavailableError|MigrationError)$/.test(e.name);
    const variable = storageError ? (config.DATABASE_URL ? 'DATABASE_URL' : 'DATA_DIR') : null;
    console.error(variable ? `${variable}: ${(e as Error).message}` : `start-up failed: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(variable ? 78 : 1);
  }
  const { startGateway } = await import('./app.js');
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
