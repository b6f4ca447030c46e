import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import type { Config } from './config.js';
import type { Logger } from './logger.js';
import { openRedisClient } from './backends/redis/client.js';
import { parseRedisUrl, type RedisTarget } from './backends/redis/url.js';

/** A dependency start-up cannot use; `message` names the variable and never repeats a secret. */
export class StartupError extends Error {
  override name = 'StartupError';
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`${variable}: ${message}`);
  }
}

/** An error retrying will not fix (bad password, missing database, wrong kind of server). */
class PermanentError extends Error {}

// Postgres SQLSTATEs that no retry fixes: bad credentials, no such database, no permission.
const PERMANENT_PG = new Set(['28P01', '28000', '3D000', '42501']);

/**
 * Waits until `DATABASE_URL` and `REDIS_URL` (when set) answer, retrying with backoff for up to
 * `STARTUP_TIMEOUT_MS`; a dependency still unreachable then, or refusing us for good (credentials,
 * missing database), throws a {@link StartupError} naming its variable. Later outages are the
 * backends' business (retried, shown in `/readyz`).
 * @example await waitForDependencies(config, logger); // then createBackends(config, logger)
 */
export async function waitForDependencies(config: Config, logger: Logger): Promise<void> {
  const deadline = Date.now() + config.STARTUP_TIMEOUT_MS;
  const waits: Array<Promise<void>> = [];
  if (config.DATABASE_URL) {
    const url = config.DATABASE_URL;
    const where = describePostgres(url);
    waits.push(retry('DATABASE_URL', `Postgres at ${where}`, deadline, logger, (ms) => probePostgres(url, ms)));
  }
  if (config.REDIS_URL) {
    const target = parseRedisUrl(config.REDIS_URL, { cluster: config.REDIS_CLUSTER });
    const where = `${target.cluster ? 'Redis Cluster seeds' : 'Redis at'} ${target.nodes.map((n) => `${n.host}:${n.port}`).join(',')}`;
    waits.push(retry('REDIS_URL', where, deadline, logger, (ms) => probeRedis(target, ms)));
  }
  const results = await Promise.allSettled(waits);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}

async function retry(variable: string, what: string, deadline: number, logger: Logger, attempt: (timeoutMs: number) => Promise<void>): Promise<void> {
  const started = Date.now();
  let delay = 250;
  for (let n = 1; ; n++) {
    const timeoutMs = Math.max(500, Math.min(3000, deadline - Date.now()));
    try {
      await attempt(timeoutMs);
      if (n > 1) logger.info(`${variable} reachable`, { attempts: n });
      return;
    } catch (error) {
      if (error instanceof PermanentError) throw new StartupError(variable, `${what} refused the connection: ${error.message}`);
      if (Date.now() + delay >= deadline) {
        const seconds = ((Date.now() - started) / 1000).toFixed(1);
        throw new StartupError(variable, `cannot reach ${what} after ${n} attempts in ${seconds} s (${reason(error)})`);
      }
      if (n === 1) logger.warn(`${variable} unreachable, retrying`, { error: reason(error), untilMs: deadline - Date.now() });
    }
    await sleep(delay);
    delay = Math.min(delay * 2, 2000);
  }
}

/** The host part of a Postgres URL (never its password). */
function describePostgres(url: string): string {
  const u = new URL(url);
  return `${u.hostname || u.searchParams.get('host') || 'localhost'}:${u.port || '5432'}${u.pathname}`;
}

/** A short reason; Node's AggregateError (every address of `localhost` refused) has no message. */
function reason(error: unknown): string {
  const e = error as { message?: string; code?: string; errors?: unknown[] };
  if (e?.errors?.length) return reason(e.errors[0]);
  return e?.message || e?.code || String(error);
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

async function probePostgres(url: string, timeoutMs: number): Promise<void> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: timeoutMs });
  client.on('error', () => {});
  try {
    await withTimeout(
      client.connect().then(() => client.query('SELECT 1')),
      timeoutMs,
      'the server',
    );
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code && PERMANENT_PG.has(code)) throw new PermanentError((error as Error).message);
    throw error;
  } finally {
    void client.end().catch(() => {});
  }
}

async function probeRedis(target: RedisTarget, timeoutMs: number): Promise<void> {
  const client = openRedisClient(target, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    enableOfflineQueue: true,
    connectionName: 'switchboard-startup',
  });
  // ioredis rejects with "Connection is closed"; the socket's own error says why (ECONNREFUSED …).
  let socketError: Error | undefined;
  client.on('error', (e: Error) => (socketError = e));
  try {
    await withTimeout(
      (async () => {
        await client.connect().catch((e: unknown) => {
          throw socketError && /Connection is closed/.test(reason(e)) ? socketError : e;
        });
        await client.ping();
        if (!target.cluster) {
          const info = String(await client.info('cluster'));
          if (/cluster_enabled:1/.test(info)) throw new PermanentError('this server is a Redis Cluster node: use redis+cluster://host:port,… or REDIS_CLUSTER=true');
        }
      })(),
      timeoutMs,
      'the server',
    );
  } catch (error) {
    const message = reason(error);
    if (error instanceof PermanentError) throw error;
    if (/WRONGPASS|NOAUTH|NOPERM|invalid password|cluster support disabled/i.test(message)) throw new PermanentError(message);
    throw error;
  } finally {
    client.disconnect();
  }
}
