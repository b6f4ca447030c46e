/**
 * Test support for the deployment checks: a gateway as a child process on port 0 (the port read
 * from its "gateway listening" log line), one chat through the HTTP API, and a probe of the
 * servers the production settings need (server Postgres, Redis).
 */
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { Redis } from 'ioredis';
import { eventually, spawnChild, type ChildHandle } from '../../src/cluster/processes.js';
import { TEST_DATABASE_URL } from '../../src/cluster/test-database.js';

export { createTestDatabase } from '../../src/cluster/test-database.js';
export { TEST_DATABASE_URL };
export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
export const JWT_SECRET = 'deploy-test-secret-deploy-test-secret-0123';

export interface GatewayProcess {
  readonly url: string;
  readonly port: number;
  readonly child: ChildHandle;
  /** SIGTERM (drain), then SIGKILL after a grace period. */
  stop(): Promise<void>;
}

/**
 * Starts `node <args>` in `cwd` with only `env` (plus PATH and HOME) and `PORT=0`, and waits until
 * it logs the port it listens on.
 */
export async function startGatewayProcess(name: string, o: { cwd: string; args: string[]; env: Record<string, string>; timeoutMs?: number }): Promise<GatewayProcess> {
  const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', HOST: '127.0.0.1', PORT: '0', ...o.env };
  const child = spawnChild(name, process.execPath, o.args, { cwd: o.cwd, env });
  let port = 0;
  await eventually(
    () => {
      if (!child.alive) throw new Error(`${name} exited before listening:\n${child.output()}`);
      const m = /gateway listening.*"port":(\d+)/.exec(child.output());
      if (m) port = Number(m[1]);
      return port > 0;
    },
    `${name} to listen`,
    o.timeoutMs ?? 30_000,
    100,
  );
  return { url: `http://127.0.0.1:${port}`, port, child, stop: () => child.stop('SIGTERM', 10_000) };
}

export interface ChatResult {
  status: number;
  text: string;
  done?: { type: 'done'; reason: string; model?: string };
  frames: Array<{ type: string; seq: number }>;
}

/** Registers a fresh user, opens a session and runs one turn with `POST /v1/sessions/:id/messages`. */
export async function chatOverHttp(url: string, text: string): Promise<ChatResult> {
  const post = async (path: string, body: unknown, token?: string) => {
    const res = await fetch(url + path, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(body),
    });
    const json = (await res.json()) as Record<string, any>;
    if (res.status >= 300) throw new Error(`POST ${path}: ${res.status} ${JSON.stringify(json)}`);
    return json;
  };
  const email = `deploy-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}@example.com`;
  const { accessToken } = await post('/v1/auth/register', { email, password: 'correct horse battery staple' });
  const session = await post('/v1/sessions', {}, accessToken as string);
  const res = await fetch(`${url}/v1/sessions/${session.id as string}/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${accessToken as string}` },
    body: JSON.stringify({ id: 'm1', text }),
  });
  return { status: res.status, ...((await res.json()) as Omit<ChatResult, 'status'>) };
}

let probe: Promise<{ available: boolean; reason: string }> | undefined;

/** Whether server Postgres and Redis answer. With `CI=true` they must (the suites always run in CI). */
export function productionServices(): Promise<{ available: boolean; reason: string }> {
  probe ??= (async () => {
    const missing: string[] = [];
    const client = new pg.Client({ connectionString: TEST_DATABASE_URL, connectionTimeoutMillis: 3_000 });
    try {
      await client.connect();
    } catch (e) {
      missing.push(`server Postgres unreachable at ${TEST_DATABASE_URL}: ${(e as Error).message}`);
    } finally {
      await client.end().catch(() => {});
    }
    const redis = new Redis(TEST_REDIS_URL, { lazyConnect: true, connectTimeout: 2_000, maxRetriesPerRequest: 0, retryStrategy: () => null });
    redis.on('error', () => {});
    try {
      await redis.connect();
      await redis.ping();
    } catch (e) {
      missing.push(`Redis unreachable at ${TEST_REDIS_URL}: ${(e as Error).message}`);
    } finally {
      redis.disconnect();
    }
    const reason = missing.join('; ');
    if (reason && process.env.CI === 'true') throw new Error(`${reason} (CI=true: these suites must run)`);
    return { available: !reason, reason };
  })();
  return probe;
}
