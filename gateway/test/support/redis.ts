/**
 * Helpers for tests that need a real Redis. They read `TEST_REDIS_URL` (default
 * `redis://127.0.0.1:6379`). With `CI=true` the server must answer (the suites always run in CI);
 * elsewhere the suites skip with the reason. Each harness uses its own key prefix and deletes only
 * its own keys, so parallel test files never collide.
 */
import { randomBytes } from 'node:crypto';
import { Redis, type RedisOptions } from 'ioredis';

export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

export interface ServerRedis {
  available: boolean;
  /** Why the Redis suites are skipped, when they are. */
  reason: string;
}

let probe: Promise<ServerRedis> | undefined;

/** Probes the test server once per file. In CI an unreachable server throws. */
export function serverRedis(): Promise<ServerRedis> {
  probe ??= (async () => {
    const client = new Redis(TEST_REDIS_URL, { lazyConnect: true, connectTimeout: 2_000, maxRetriesPerRequest: 0, retryStrategy: () => null });
    let lastError: Error | undefined;
    client.on('error', (error: Error) => (lastError = error));
    try {
      await client.connect();
      await client.ping();
      return { available: true, reason: '' };
    } catch (error) {
      const reason = `Redis unreachable at ${TEST_REDIS_URL}: ${(lastError ?? (error as Error)).message}`;
      if (process.env.CI === 'true') throw new Error(`${reason} (CI=true: the Redis suites must run)`);
      console.warn(`skipping Redis suites: ${reason}`);
      return { available: false, reason };
    } finally {
      client.disconnect();
    }
  })();
  return probe;
}

/** A fresh key prefix, unique per call (letters, digits and colons only: safe in SCAN MATCH). */
export function uniquePrefix(tag: string): string {
  return `test:${tag}:${Date.now().toString(36)}${randomBytes(4).toString('hex')}:`;
}

/** A new connection to the test server. */
export function connectTestRedis(options: RedisOptions = {}): Redis {
  return new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: 2, ...options });
}

/** Deletes every key under `prefix` (and nothing else). */
export async function deleteKeys(redis: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
    if (keys.length > 0) await redis.unlink(...keys);
    cursor = next;
  } while (cursor !== '0');
}

/** Waits until `check` holds, polling; fails with `what` after `timeoutMs`. */
export async function waitUntil(check: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
