import { ConfigError, loadConfig } from './config.js';

describe('loadConfig', () => {
  it('applies defaults with no environment', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({ APP_ENV: 'development', PORT: 8080, DATA_DIR: './data', TRANSPORT: 'auto', MAX_FRAME_BYTES: 131072 });
    expect(c.DATABASE_URL).toBeUndefined();
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
  it('starts in production with real backends, or the local model when explicitly allowed', () => {
    const secret = 'x'.repeat(40);
    expect(loadConfig({ APP_ENV: 'production', JWT_SECRET: secret, DATABASE_URL: 'postgres://h/db', LLM_MODELS: 'gpt-4o-mini', OPENAI_API_KEY: 'k', METRICS_TOKEN: 'metrics-token-0123456789' }).APP_ENV).toBe('production');
    expect(loadConfig({ APP_ENV: 'production', JWT_SECRET: secret, DATABASE_URL: 'postgres://h/db', ALLOW_LOCAL_MODEL_IN_PRODUCTION: 'true', METRICS_PORT: '9464' }).ALLOW_LOCAL_MODEL_IN_PRODUCTION).toBe(true);
  });
});
