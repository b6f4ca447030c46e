/**
 * A real gateway started in this process on port 0 (embedded defaults, in-memory database),
 * with its model chain pointed at the mock OpenAI server, for the frame-grammar suite.
 */
import { createBackends, createLogger, loadConfig, startGateway } from '@switchboard/gateway';
import type { MockOpenAI } from '@switchboard/mock-llm';

/** The model name the in-process gateway asks the mock for. */
export const GATEWAY_MOCK_MODEL = 'eval-gateway';

export interface EvalGateway {
  readonly url: string;
  stop(): Promise<void>;
}

/** Starts a gateway whose only model is the mock's `eval-gateway`. */
export async function startEvalGateway(mock: MockOpenAI): Promise<EvalGateway> {
  const config = loadConfig({
    APP_ENV: 'test',
    HOST: '127.0.0.1',
    PORT: '0',
    TRANSPORT: 'ws',
    JWT_SECRET: 'evals-secret-evals-secret-evals-secret-01',
    LOG_LEVEL: 'error',
    LLM_MODELS: JSON.stringify([{ name: 'eval', model: GATEWAY_MOCK_MODEL, baseURL: mock.url, apiKey: 'eval', maxRetries: 0 }]),
  });
  const logger = createLogger({ level: 'error', env: 'test', format: 'json', silent: true });
  const backends = await createBackends(config, logger, { inMemoryDatabase: true });
  const gateway = await startGateway(config, backends, logger);
  return { url: gateway.url, stop: () => gateway.stop({ drainTimeoutMs: 500 }) };
}
