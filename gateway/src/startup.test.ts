/**
 * Start-up that fails clearly: the real entry point (under tsx) with each bad configuration must
 * exit 78 with one stderr line naming the variable, before opening anything (no data directory,
 * no listener); unreachable dependencies are retried for STARTUP_TIMEOUT_MS, then named.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

interface Exit {
  code: number | null;
  stderr: string[];
  stdout: string;
}

function runEntryPoint(env: Record<string, string>, dataDir: string): Promise<Exit> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'gateway/src/main.ts'], {
      cwd: REPO_ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', HOST: '127.0.0.1', PORT: '0', DATA_DIR: dataDir, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const killer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', fail);
    child.on('exit', (code) => {
      clearTimeout(killer);
      done({ code, stdout, stderr: stderr.split('\n').filter((l) => l.trim() !== '') });
    });
  });
}

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

describe('start-up with a bad configuration (the real entry point)', { timeout: 90_000 }, () => {
  let dir: string;
  let blackHole: Server;
  const held: Socket[] = [];
  let blackHolePort = 0;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sb-startup-'));
    // Accepts TCP and never answers: a Redis that hangs.
    blackHole = createServer((s) => held.push(s.on('error', () => {})));
    await new Promise<void>((r) => blackHole.listen(0, '127.0.0.1', r));
    blackHolePort = (blackHole.address() as { port: number }).port;
  });
  afterAll(async () => {
    for (const s of held) s.destroy();
    await new Promise<void>((r) => blackHole.close(() => r()));
    rmSync(dir, { recursive: true, force: true });
  });

  const expectOneLine = (exit: Exit, variable: string, pattern?: RegExp) => {
    expect(exit.code, exit.stderr.join('\n')).toBe(78);
    expect(exit.stderr, 'exactly one stderr line').toHaveLength(1);
    expect(exit.stderr[0]).toContain(variable);
    if (pattern) expect(exit.stderr[0]).toMatch(pattern);
    expect(exit.stderr[0]).not.toMatch(/\n|\bat .+:\d+:\d+/);
    expect(exit.stdout).not.toMatch(/gateway listening/);
  };

  it('names a malformed setting, a URL without a scheme and a bad LLM_MODELS before opening anything', async () => {
    const cases: Array<[Record<string, string>, string, RegExp?]> = [
      [{ PORT: 'eighty' }, 'PORT'],
      [{ DATABASE_URL: 'localhost:5432/db' }, 'DATABASE_URL', /postgres:\/\//],
      [{ DATABASE_URL: 'postgres://user:hunter2@:5432/db' }, 'DATABASE_URL', /not a valid URL/],
      [{ REDIS_URL: 'localhost:6379' }, 'REDIS_URL', /redis:\/\//],
      [{ REDIS_URL: 'redis://a:1,b:2' }, 'REDIS_URL', /cluster/],
      [{ STARTUP_TIMEOUT_MS: 'soon' }, 'STARTUP_TIMEOUT_MS'],
      // the database is unreachable: the model check must fail first, at once
      [{ LLM_MODELS: '[{"model":', DATABASE_URL: 'postgres://127.0.0.1:1/db', STARTUP_TIMEOUT_MS: '30000' }, 'LLM_MODELS', /JSON/],
      [{ APP_ENV: 'production', JWT_SECRET: 'x'.repeat(40), DATABASE_URL: 'postgres://127.0.0.1:1/db', ALLOW_LOCAL_MODEL_IN_PRODUCTION: 'true' }, 'REDIS_URL', /SINGLE_NODE/],
    ];
    for (const [env, variable, pattern] of cases) {
      const dataDir = join(dir, variable + Math.random().toString(36).slice(2));
      const exit = await runEntryPoint(env, dataDir);
      expectOneLine(exit, variable, pattern);
      expect(exit.stderr[0]).not.toContain('hunter2');
      expect(existsSync(dataDir), `${variable}: nothing opened`).toBe(false);
    }
  });

  it('refuses bad cost settings (negative price, unknown tier, negative limit) at start, naming the variable', async () => {
    const models = JSON.stringify([{ name: 'mini', model: 'mini' }, { name: 'big', model: 'big' }]);
    const base = { LLM_MODELS: models, OPENAI_BASE_URL: 'http://127.0.0.1:1/v1' };
    const cases: Array<[Record<string, string>, string, RegExp]> = [
      [{ ...base, LLM_MODELS: '[{"model":"mini","outputPricePer1k":-0.5}]' }, 'LLM_MODELS', /outputPricePer1k: must not be negative/],
      [{ ...base, LLM_TIERS: '{"fast":["mini"],"smart":["huge"]}' }, 'LLM_TIERS', /unknown model "huge"/],
      [{ ...base, LLM_TIERS: '{"fast":["mini"],"smart":["big"]}', ROUTER_CLIENT_TIERS: 'fast,turbo' }, 'ROUTER_CLIENT_TIERS', /unknown tier "turbo"/],
      [{ ...base, DAILY_SPEND_LIMIT_USD: '-1' }, 'DAILY_SPEND_LIMIT_USD', /DAILY_SPEND_LIMIT_USD/],
    ];
    for (const [env, variable, pattern] of cases) {
      const dataDir = join(dir, variable + Math.random().toString(36).slice(2));
      const exit = await runEntryPoint(env, dataDir);
      expectOneLine(exit, variable, pattern);
      expect(existsSync(dataDir), `${variable}: nothing opened`).toBe(false);
    }
  });

  it('retries an unreachable DATABASE_URL for STARTUP_TIMEOUT_MS, then names it', async () => {
    const port = await closedPort();
    const exit = await runEntryPoint({ DATABASE_URL: `postgres://postgres:secret@127.0.0.1:${port}/db`, STARTUP_TIMEOUT_MS: '1500' }, join(dir, 'db'));
    expectOneLine(exit, 'DATABASE_URL', new RegExp(`cannot reach Postgres at 127\\.0\\.0\\.1:${port}/db after [2-9]\\d* attempts`));
    expect(exit.stderr[0]).not.toContain('secret');
    expect(exit.stdout).toMatch(/DATABASE_URL unreachable, retrying/);
  });

  it('retries an unreachable REDIS_URL (closed, or accepting and silent), then names it instead of hanging', async () => {
    const port = await closedPort();
    for (const p of [port, blackHolePort]) {
      const dataDir = join(dir, `redis-${p}`);
      const exit = await runEntryPoint({ REDIS_URL: `redis://127.0.0.1:${p}`, STARTUP_TIMEOUT_MS: '1500' }, dataDir);
      expectOneLine(exit, 'REDIS_URL', new RegExp(`cannot reach Redis at 127\\.0\\.0\\.1:${p}`));
      expect(existsSync(dataDir), 'the embedded database was not opened').toBe(false);
    }
    const cluster = await runEntryPoint({ REDIS_URL: `redis+cluster://127.0.0.1:${port},127.0.0.1:${blackHolePort}`, STARTUP_TIMEOUT_MS: '1500' }, join(dir, 'rc'));
    expectOneLine(cluster, 'REDIS_URL', /Redis Cluster seeds/);
  });
});
