import { ConfigError, loadConfig } from './config.js';

describe('loadConfig', () => {
  it('applies defaults with no environment', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({ APP_ENV: 'development', PORT: 8080, DATA_DIR: './data', TRANSPORT: 'auto', MAX_FRAME_BYTES: 131072 });
    expect(c.DATABASE_URL).toBeUndefined();
  });
  it('runs the agent on the loop engine unless AGENT_ENGINE says langgraph', () => {
    expect(loadConfig({}).AGENT_ENGINE).toBe('loop');
    expect(loadConfig({ AGENT_ENGINE: 'langgraph' }).AGENT_ENGINE).toBe('langgraph');
    expect(() => loadConfig({ AGENT_ENGINE: 'pregel' })).toThrow(/AGENT_ENGINE/);
  });
  it('treats empty variables as unset and coerces numbers', () => {
    expect(loadConfig({ PORT: '', DATABASE_URL: '' }).PORT).toBe(8080);
    expect(loadConfig({ PORT: '9000' }).PORT).toBe(9000);
  });
  it('names the variable that is wrong', () => {
    expect(() => loadConfig({ PORT: 'eighty' })).toThrow(/PORT/);
    expect(() => loadConfig({ TRANSPORT: 'carrier-pigeon' })).toThrow(/TRANSPORT/);
    expect(() => loadConfig({ DATABASE_URL: 'not a url' })).toThrow(/DATABASE_URL/);
    expect(() => loadConfig({ MAX_FRAME_BYTES: '10' })).toThrow(ConfigError);
  });
  it('refuses embedded defaults in production, naming each variable to set', () => {
    let message = '';
    try {
      loadConfig({ APP_ENV: 'production' });
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/JWT_SECRET/);
    expect(message).toMatch(/DATABASE_URL/);
    expect(message).toMatch(/LLM_MODELS/);
    expect(() => loadConfig({ APP_ENV: 'production', JWT_SECRET: 'short', DATABASE_URL: 'postgres://x/y', OPENAI_API_KEY: 'k' })).toThrow(/JWT_SECRET/);
  });
  it('checks URLs by scheme and parts, never repeating the value', () => {
    for (const bad of ['localhost:5432/db', 'mysql://h/db', 'postgres://h', 'postgres://u:pw-secret@:5432/db'])
      expect(() => loadConfig({ DATABASE_URL: bad }), bad).toThrow(/^invalid configuration: DATABASE_URL: /);
    try {
      loadConfig({ DATABASE_URL: 'postgres://u:pw-secret@:5432/db' });
    } catch (e) {
      expect((e as Error).message).not.toContain('pw-secret');
      expect((e as Error).message).not.toContain('\n');
    }
    expect(loadConfig({ DATABASE_URL: 'postgresql://u:p@h:5432/db?sslmode=require' }).DATABASE_URL).toContain('sslmode');
    for (const bad of ['localhost:6379', 'http://h:6379', 'redis://h:99999', 'redis://h/x', 'redis://a:1,b:2', 'redis+cluster://a:1,b:2/3'])
      expect(() => loadConfig({ REDIS_URL: bad }), bad).toThrow(/REDIS_URL: /);
    expect(loadConfig({ REDIS_URL: 'redis://a:1,b:2', REDIS_CLUSTER: 'true' }).REDIS_CLUSTER).toBe(true);
    expect(loadConfig({ REDIS_URL: 'redis+cluster://:pw@a:1,b:2' }).REDIS_URL).toBeDefined();
    expect(loadConfig({ STARTUP_TIMEOUT_MS: '2000' }).STARTUP_TIMEOUT_MS).toBe(2000);
    expect(loadConfig({}).STARTUP_TIMEOUT_MS).toBe(15_000);
  });
  it('checks LLM_MODELS with the rest of the configuration, on one line', () => {
    expect(() => loadConfig({ LLM_MODELS: '[{"model":' })).toThrow(/^invalid configuration: LLM_MODELS: invalid JSON[^\n]*$/);
    expect(() => loadConfig({ LLM_MODELS: 'a,,b' })).toThrow(/LLM_MODELS/);
  });
  it('needs REDIS_URL in production unless SINGLE_NODE=true', () => {
    const base = { APP_ENV: 'production', JWT_SECRET: 'x'.repeat(40), DATABASE_URL: 'postgres://h/db', ALLOW_LOCAL_MODEL_IN_PRODUCTION: 'true', METRICS_PORT: '9464' };
    expect(() => loadConfig(base)).toThrow(/^refusing to start in production: REDIS_URL must be set[^\n]*SINGLE_NODE=true/);
    expect(loadConfig({ ...base, SINGLE_NODE: 'true' }).SINGLE_NODE).toBe(true);
    expect(loadConfig({ ...base, REDIS_URL: 'redis://h:6379' }).REDIS_URL).toBe('redis://h:6379');
  });
  it('starts in production with real backends, or the local model when explicitly allowed', () => {
    const secret = 'x'.repeat(40);
    expect(loadConfig({ APP_ENV: 'production', JWT_SECRET: secret, DATABASE_URL: 'postgres://h/db', REDIS_URL: 'redis://h', LLM_MODELS: 'gpt-4o-mini', OPENAI_API_KEY: 'k', METRICS_TOKEN: 'metrics-token-0123456789' }).APP_ENV).toBe('production');
    expect(loadConfig({ APP_ENV: 'production', JWT_SECRET: secret, DATABASE_URL: 'postgres://h/db', SINGLE_NODE: 'true', ALLOW_LOCAL_MODEL_IN_PRODUCTION: 'true', METRICS_PORT: '9464' }).ALLOW_LOCAL_MODEL_IN_PRODUCTION).toBe(true);
  });
});
