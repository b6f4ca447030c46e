/**
 * Test support for the deployment checks: a gateway as a child process on port 0 (the port read
 * from its "gateway listening" log line), one chat through the HTTP API, and a probe of the
 * servers the production settings need (server Postgres, Redis).
 */
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { Redis } from 'ioredis';
import { WebSocket } from 'ws';
import { eventually, spawnChild, type ChildHandle } from '../cluster/processes.js';
import { TEST_DATABASE_URL } from '../cluster/test-database.js';

export { createTestDatabase, type TestDatabase } from '../cluster/test-database.js';
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
 * Starts `node <args>` in `cwd` with only `env` (plus PATH and HOME, `PORT=0` and sign-up limits raised:
 * test suites register many users from one address on a shared Redis), and waits until
 * it logs the port it listens on.
 */
export async function startGatewayProcess(name: string, o: { cwd: string; args: string[]; env: Record<string, string>; timeoutMs?: number }): Promise<GatewayProcess> {
  const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', HOST: '127.0.0.1', PORT: '0', RATE_REGISTRATIONS_PER_IP_PER_HOUR: '1000000', RATE_SESSIONS_PER_USER_PER_MINUTE: '1000000', ...o.env };
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

async function postJson(url: string, path: string, body: unknown, token?: string): Promise<Record<string, any>> {
  const res = await fetch(url + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  const json = (await res.json()) as Record<string, any>;
  if (res.status >= 300) throw new Error(`POST ${path}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

/** Registers a fresh user and opens a session: its access token and the session id. */
export async function newUserSession(url: string): Promise<{ accessToken: string; sessionId: string }> {
  const email = `deploy-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}@example.com`;
  const { accessToken } = await postJson(url, '/v1/auth/register', { email, password: 'correct horse battery staple' });
  const session = await postJson(url, '/v1/sessions', {}, accessToken as string);
  return { accessToken: accessToken as string, sessionId: session.id as string };
}

/** Runs one turn with `POST /v1/sessions/:id/messages` for a fresh user. */
export async function chatOverHttp(url: string, text: string): Promise<ChatResult> {
  const { accessToken, sessionId } = await newUserSession(url);
  const res = await fetch(`${url}/v1/sessions/${sessionId}/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${accessToken}` },
    body: JSON.stringify({ id: 'm1', text }),
  });
  return { status: res.status, ...((await res.json()) as Omit<ChatResult, 'status'>) };
}

type Frame = { type: string; [key: string]: any };

/** A raw protocol socket: frames queued as they arrive, awaited by type. */
async function openSocket(wsUrl: string): Promise<{ send(f: unknown): void; next(type: string, timeoutMs?: number): Promise<Frame>; close(): Promise<void> }> {
  const ws = new WebSocket(wsUrl, 'switchboard.v1');
  const queue: Frame[] = [];
  let wake: (() => void) | undefined;
  ws.on('message', (data) => {
    queue.push(JSON.parse(String(data)) as Frame);
    wake?.();
  });
  await new Promise<void>((resolve, reject) => ws.once('open', () => resolve()).once('error', reject));
  return {
    send: (f) => ws.send(JSON.stringify(f)),
    async next(type, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const i = queue.findIndex((f) => f.type === type);
        if (i >= 0) return queue.splice(i, 1)[0]!;
        const errorFrame = queue.find((f) => f.type === 'error');
        if (errorFrame) throw new Error(`error frame while waiting for ${type}: ${JSON.stringify(errorFrame)}`);
        if (Date.now() > deadline) throw new Error(`no ${type} frame within ${timeoutMs} ms`);
        await new Promise<void>((r) => {
          wake = r;
          setTimeout(r, 100);
        });
      }
    },
    close: () =>
      new Promise<void>((resolve) => {
        if (ws.readyState === WebSocket.CLOSED) return resolve();
        ws.once('close', () => resolve());
        ws.close(1000);
      }),
  };
}

/**
 * A socket chat as a client does it: hello, send, the run's frames up to `done`, a disconnect,
 * then a resume (`hello{resume}` with the last seq but two) that replays what was missed.
 */
export async function socketChatWithResume(url: string, text: string): Promise<{ done: Frame; resumed: boolean; replayed: number }> {
  const { accessToken, sessionId } = await newUserSession(url);
  const wsUrl = `${url.replace(/^http/, 'ws')}/v1/ws`;
  const first = await openSocket(wsUrl);
  first.send({ type: 'hello', token: accessToken });
  const ready = await first.next('ready');
  first.send({ type: 'send', id: 'socket-1', sessionId, text });
  await first.next('ack');
  const done = await first.next('done', 60_000);
  await first.close();
  const again = await openSocket(wsUrl);
  again.send({ type: 'hello', resume: { token: ready.resume, after: { [sessionId]: Math.max(0, (done.seq as number) - 2) } } });
  const readyAgain = await again.next('ready');
  const joined = await again.next('joined');
  await again.close();
  return { done, resumed: readyAgain.resumed as boolean, replayed: joined.replayed as number };
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
