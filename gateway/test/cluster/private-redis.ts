/**
 * A private `redis-server` on a free port, owned by one test file: it can be killed and restarted
 * (same port, same data directory) without touching the shared server other suites use.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { eventually, freePort, spawnChild, type ChildHandle } from './processes.js';

export interface PrivateRedisOptions {
  /**
   * Keep data across a restart with an append-only file fsynced on every write, as a production
   * Redis would; without it a restart starts empty.
   * @default true
   */
  persistent?: boolean;
}

export interface PrivateRedis {
  readonly port: number;
  readonly url: string;
  /** Whether the server process is running. */
  readonly running: boolean;
  /** Kills the server at once (SIGKILL), as a crash would; `loseData` also wipes its files (a restart starts empty). */
  crash(options?: { loseData?: boolean }): Promise<void>;
  /** Starts the server again on the same port and directory; resolves once it answers PING. */
  start(): Promise<void>;
  /** Stops the server and removes its directory. */
  close(): Promise<void>;
  /** The server's recent output. */
  output(): string;
}

/** Starts a private Redis and waits until it answers. */
export async function startPrivateRedis(options: PrivateRedisOptions = {}): Promise<PrivateRedis> {
  const port = await freePort();
  const dir = await mkdtemp(join(tmpdir(), 'sb-redis-'));
  const persistent = options.persistent ?? true;
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--daemonize', 'no', '--protected-mode', 'no'];
  args.push(...(persistent ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no']));
  let child: ChildHandle | null = null;
  const url = `redis://127.0.0.1:${port}`;

  const start = async () => {
    if (child?.alive) return;
    child = spawnChild(`redis:${port}`, 'redis-server', args);
    await eventually(() => ping(url), `redis-server on port ${port}`, 10_000, 50).catch((e: Error) => {
      throw new Error(`${e.message}\n${child?.output() ?? ''}`);
    });
  };
  await start();
  return {
    port,
    url,
    get running() {
      return child?.alive ?? false;
    },
    async crash(o = {}) {
      await child?.stop('SIGKILL');
      if (o.loseData) {
        await rm(dir, { recursive: true, force: true });
        await mkdir(dir, { recursive: true });
      }
    },
    start,
    async close() {
      await child?.stop('SIGKILL');
      await rm(dir, { recursive: true, force: true });
    },
    output: () => child?.output() ?? '',
  };
}

async function ping(url: string): Promise<boolean> {
  const client = new Redis(url, { lazyConnect: true, connectTimeout: 500, maxRetriesPerRequest: 0, retryStrategy: () => null });
  client.on('error', () => {});
  try {
    await client.connect();
    return (await client.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}
