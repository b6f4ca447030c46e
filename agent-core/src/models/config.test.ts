import { parseModelsConfig } from './config.js';
import { ModelsConfigError } from './errors.js';

function configError(env: Record<string, string>): ModelsConfigError {
  try {
    parseModelsConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ModelsConfigError);
    return err as ModelsConfigError;
  }
  throw new Error('expected a ModelsConfigError');
}

describe('parseModelsConfig', () => {
  it('returns null when nothing is configured (offline local model)', () => {
    expect(parseModelsConfig({})).toBeNull();
    expect(parseModelsConfig({ LLM_MODELS: '  ', OPENAI_API_KEY: '' })).toBeNull();
  });

  it('builds one default model from OPENAI_API_KEY / OPENAI_BASE_URL', () => {
    expect(parseModelsConfig({ OPENAI_API_KEY: 'sk-1' })).toEqual({
      models: [{ name: 'gpt-4o-mini', model: 'gpt-4o-mini', apiKey: 'sk-1', baseURL: undefined }],
    });
    expect(parseModelsConfig({ OPENAI_BASE_URL: 'http://127.0.0.1:8090/v1', OPENAI_MODEL: 'llama3' })).toEqual({
      models: [{ name: 'llama3', model: 'llama3', baseURL: 'http://127.0.0.1:8090/v1', apiKey: undefined }],
    });
  });

  it('reads a comma-separated list of model names on the shared endpoint', () => {
    const config = parseModelsConfig({
      LLM_MODELS: 'primary, backup',
      OPENAI_BASE_URL: 'http://127.0.0.1:8090/v1',
      OPENAI_API_KEY: 'k',
      LLM_BUDGET_MS: '20000',
    });
    expect(config).toEqual({
      models: [
        { name: 'primary', model: 'primary', baseURL: 'http://127.0.0.1:8090/v1', apiKey: 'k' },
        { name: 'backup', model: 'backup', baseURL: 'http://127.0.0.1:8090/v1', apiKey: 'k' },
      ],
      totalBudgetMs: 20_000,
    });
  });

  it('reads a JSON array with per-model options and shared defaults', () => {
    const config = parseModelsConfig({
      OPENAI_API_KEY: 'shared',
      LLM_MODELS: JSON.stringify([
        { name: 'primary', model: 'gpt-4o-mini', baseURL: 'https://api.openai.com/v1', firstTokenTimeoutMs: 8000, maxRetries: 1 },
        { model: 'llama3.1', baseURL: 'http://127.0.0.1:11434/v1', apiKey: 'own', halfOpenAfterMs: 5000, headers: { 'x-a': 'b' } },
      ]),
    });
    expect(config?.models).toEqual([
      { name: 'primary', model: 'gpt-4o-mini', baseURL: 'https://api.openai.com/v1', apiKey: 'shared', firstTokenTimeoutMs: 8000, maxRetries: 1 },
      { name: 'llama3.1', model: 'llama3.1', baseURL: 'http://127.0.0.1:11434/v1', apiKey: 'own', halfOpenAfterMs: 5000, headers: { 'x-a': 'b' } },
    ]);
  });

  it('reads the client of each model (lean by default, so unset stays unset)', () => {
    const config = parseModelsConfig({
      LLM_MODELS: JSON.stringify([{ model: 'a', client: 'langchain' }, { model: 'b', client: 'lean' }, { model: 'c' }]),
    });
    expect(config?.models.map((m) => m.client)).toEqual(['langchain', 'lean', undefined]);
  });

  it.each([
    [{ LLM_MODELS: '[{"model": "a", "client": "fetch"}]' }, 'LLM_MODELS', /0\.client: must be "lean" or "langchain"/],
    [{ LLM_MODELS: '[{"model": "a", "client": ""}]' }, 'LLM_MODELS', /0\.client/],
    [{ LLM_MODELS: '[{"model": "a", "client": 1}]' }, 'LLM_MODELS', /0\.client/],
    [{ LLM_MODELS: '[{"model": "a", "client": "LEAN"}]' }, 'LLM_MODELS', /0\.client/],
    [{ LLM_MODELS: '[{"model": "a"' }, 'LLM_MODELS', /invalid JSON/],
    [{ LLM_MODELS: '[]' }, 'LLM_MODELS', /at least one model/],
    [{ LLM_MODELS: '[{"name": "a"}]' }, 'LLM_MODELS', /0\.model/],
    [{ LLM_MODELS: '[{"model": "a", "baseURL": "not a url"}]' }, 'LLM_MODELS', /0\.baseURL/],
    [{ LLM_MODELS: '[{"model": "a", "firstTokenTimeoutMs": -5}]' }, 'LLM_MODELS', /0\.firstTokenTimeoutMs/],
    [{ LLM_MODELS: '[{"model": "a", "surprise": 1}]' }, 'LLM_MODELS', /surprise/],
    [{ LLM_MODELS: '[{"model": "a"}, {"model": "a"}]' }, 'LLM_MODELS', /duplicate model name "a"/],
    [{ LLM_MODELS: 'a,,b' }, 'LLM_MODELS', /empty model name/],
    [{ LLM_MODELS: '{"model": "a"}' }, 'LLM_MODELS', /expected array/i],
    [{ OPENAI_BASE_URL: 'localhost:8090' }, 'OPENAI_BASE_URL', /not a valid http\(s\) URL/],
    [{ OPENAI_API_KEY: 'k', LLM_BUDGET_MS: 'soon' }, 'LLM_BUDGET_MS', /positive integer/],
    [{ LLM_MODELS: '[{"model":"a","retryBaseDelayMs":500,"retryMaxDelayMs":100}]' }, 'LLM_MODELS', /retryBaseDelayMs/],
    [{ LLM_MODELS: '[{"model":"a","inputPricePer1k":-0.1}]' }, 'LLM_MODELS', /0\.inputPricePer1k: must not be negative/],
    [{ LLM_MODELS: '[{"model":"a","outputPricePer1k":"cheap"}]' }, 'LLM_MODELS', /0\.outputPricePer1k/],
    [{ LLM_MODELS: '[{"model":"a","currency":"EUR"}]' }, 'LLM_MODELS', /0\.currency/],
    [{ OPENAI_API_KEY: 'k', LLM_TIERS: '{"fast":["a"],"smart":["a"]}' }, 'LLM_TIERS', /needs LLM_MODELS/],
    [{ LLM_MODELS: 'a,b', LLM_TIERS: '{"fast":["a"],"smart":["c"]}' }, 'LLM_TIERS', /tier "smart" names unknown model "c"/],
    [{ LLM_MODELS: 'a,b', LLM_TIERS: '{"fast":["a"]}' }, 'LLM_TIERS', /must define the "smart" tier/],
    [{ LLM_MODELS: 'a,b', LLM_TIERS: '{"fast":[],"smart":["a"]}' }, 'LLM_TIERS', /fast: must list at least one model/],
    [{ LLM_MODELS: 'a,b', LLM_TIERS: '{"Fast!":["a"],"fast":["a"],"smart":["b"]}' }, 'LLM_TIERS', /tier name "Fast!"/],
    [{ LLM_MODELS: 'a,b', LLM_TIERS: '["a"]' }, 'LLM_TIERS', /expected/],
    [{ LLM_MODELS: 'a,b', LLM_TIERS: '{"fast":' }, 'LLM_TIERS', /invalid JSON/],
    [{ LLM_MODELS: 'a', LLM_MAX_OUTPUT_TOKENS: '-1' }, 'LLM_MAX_OUTPUT_TOKENS', /positive integer/],
  ])('rejects %j naming the variable', (env, variable, message) => {
    const err = configError(env);
    expect(err.code).toBe('invalid_config');
    expect(err.variable).toBe(variable);
    expect(err.message.startsWith(`${variable}: `)).toBe(true);
    expect(err.message).toMatch(message);
  });

  it('reads prices, tiers with their own chains, and caps output tokens per tier or by default', () => {
    const config = parseModelsConfig({
      LLM_MODELS: JSON.stringify([
        { name: 'mini', model: 'gpt-4o-mini', inputPricePer1k: 0.00015, outputPricePer1k: 0.0006 },
        { name: 'big', model: 'gpt-4o', inputPricePer1k: 0.0025, outputPricePer1k: 0.01, maxTokens: 100 },
      ]),
      OPENAI_BASE_URL: 'http://127.0.0.1:8090/v1',
      LLM_TIERS: JSON.stringify({ fast: { models: ['mini'], maxOutputTokens: 64 }, smart: ['big', 'mini'] }),
      LLM_MAX_OUTPUT_TOKENS: '512',
    });
    expect(config?.models.map((m) => [m.name, m.maxTokens, m.outputPricePer1k])).toEqual([
      ['mini', 512, 0.0006],
      ['big', 100, 0.01],
    ]);
    expect(config?.tiers?.map((t) => [t.name, t.maxOutputTokens, t.models.map((m) => `${m.name}:${m.maxTokens}`)])).toEqual([
      ['fast', 64, ['mini:64']],
      ['smart', 512, ['big:100', 'mini:512']],
    ]);
  });
});
