/**
 * Runs the mock OpenAI server standalone.
 *
 *   pnpm mock-llm [--port 8090] [--host 127.0.0.1] [--dims 256]
 *                 [--default k=v,...] [--model NAME:k=v,...]... [--model NAME:429]
 *
 * Environment: PORT, MOCK_HOST, MOCK_EMBEDDING_DIMS, MOCK_DEFAULT_SCENARIO (JSON or k=v,...),
 * MOCK_SCENARIOS (JSON object: model name → scenario). Flags win over the environment.
 * Scenario keys: ttftMs, tokensPerSecond, jitterMs, responseTokens, text, fault
 * (none|429|500|503|hang|cut|malformed), failFirst, retryAfterSec, cutAfterChunks,
 * malformedAfterChunks.
 *
 * @example pnpm mock-llm --model primary:429 --model backup:ttftMs=50,tokensPerSecond=50
 */
import { parseArgs } from 'node:util';
import { MockScenarioError, parseScenarioMap, parseScenarioSpec, type MockScenario } from './scenario.js';
import { createMockOpenAI } from './server.js';

function fail(message: string): never {
  process.stderr.write(`mock-openai: ${message}\n`);
  process.exit(2);
}

function toInt(value: string, name: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) fail(`${name} must be an integer from 0 to 65535, got "${value}"`);
  return n;
}

async function main(): Promise<void> {
  const env = process.env;
  let args;
  try {
    args = parseArgs({
      options: {
        port: { type: 'string' },
        host: { type: 'string' },
        dims: { type: 'string' },
        default: { type: 'string' },
        model: { type: 'string', multiple: true },
        help: { type: 'boolean', short: 'h' },
      },
    }).values;
  } catch (err) {
    fail((err as Error).message);
  }
  if (args.help) {
    process.stdout.write('usage: mock-llm [--port N] [--host H] [--dims N] [--default k=v,...] [--model NAME:k=v,...]...\n');
    return;
  }
  const port = toInt(args.port ?? env.PORT ?? '8090', args.port ? '--port' : 'PORT');
  const dims = toInt(args.dims ?? env.MOCK_EMBEDDING_DIMS ?? '256', args.dims ? '--dims' : 'MOCK_EMBEDDING_DIMS');
  let scenarios: Record<string, MockScenario> = {};
  let defaultScenario: MockScenario = {};
  try {
    if (env.MOCK_SCENARIOS) scenarios = parseScenarioMap(env.MOCK_SCENARIOS, 'MOCK_SCENARIOS');
    if (env.MOCK_DEFAULT_SCENARIO) defaultScenario = parseScenarioSpec(env.MOCK_DEFAULT_SCENARIO, 'MOCK_DEFAULT_SCENARIO');
    if (args.default) defaultScenario = parseScenarioSpec(args.default, '--default');
    for (const spec of args.model ?? []) {
      const colon = spec.indexOf(':');
      if (colon <= 0) fail(`--model expects NAME:scenario, got "${spec}"`);
      const name = spec.slice(0, colon);
      scenarios[name] = parseScenarioSpec(spec.slice(colon + 1), `--model ${name}`);
    }
  } catch (err) {
    if (err instanceof MockScenarioError) fail(err.message);
    throw err;
  }
  const mock = await createMockOpenAI({
    port,
    host: args.host ?? env.MOCK_HOST ?? '127.0.0.1',
    embeddingDims: dims,
    scenarios,
    defaultScenario,
  });
  const out = process.stdout;
  out.write(`mock-openai listening on ${mock.url}\n`);
  out.write(`  default scenario: ${JSON.stringify(defaultScenario)}\n`);
  for (const [name, scenario] of Object.entries(scenarios)) out.write(`  model ${name}: ${JSON.stringify(scenario)}\n`);
  out.write(`  embeddings: ${dims} dims; per-request override with header x-mock-scenario\n`);
  const stop = (): void => {
    const s = mock.stats;
    out.write(`mock-openai: ${s.requests} requests, outcomes ${JSON.stringify(s.outcomes)}, aborted ${s.aborted}\n`);
    void mock.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((err: unknown) => fail(err instanceof Error ? err.message : String(err)));
