/**
 * A real local Redis Cluster for tests: six `redis-server --cluster-enabled yes` processes (three
 * masters, three replicas) on free ports in a temp directory, joined by
 * `redis-cli --cluster create … --cluster-replicas 1`. `killMasterOf(key)` SIGKILLs the master
 * serving a key's slot and waits until its replica has taken over.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Cluster, Redis } from 'ioredis';

export interface RedisClusterRig {
  /** `redis+cluster://127.0.0.1:p1,…` with every node as a seed. */
  readonly url: string;
  readonly nodes: Array<{ host: string; port: number }>;
  /** A cluster client (closed by `stop`). */
  client(): Cluster;
  /** The port of the master serving `key`'s slot now. */
  masterOf(key: string): Promise<number>;
  /** SIGKILLs the master of `key`'s slot; resolves with its port once a replica serves the slot. */
  killMasterOf(key: string, timeoutMs?: number): Promise<{ killed: number; promoted: number; tookMs: number }>;
  stop(): Promise<void>;
}

/** Whether `redis-server` and `redis-cli` are installed (the suites skip with the reason when not). */
export function clusterPrerequisites(): { ok: boolean; reason: string } {
  for (const tool of ['redis-server', 'redis-cli']) {
    const r = spawnSync(tool, ['--version'], { encoding: 'utf8' });
    if (r.status !== 0) return { ok: false, reason: `${tool} not installed` };
    if (tool === 'redis-server' && !/v=(7|8|9)\./.test(r.stdout)) return { ok: false, reason: `sharded pub/sub needs Redis 7+: ${r.stdout.trim()}` };
  }
  return { ok: true, reason: '' };
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/** Six ports whose cluster bus ports (port + 10000) are free as well. */
async function freePorts(count: number): Promise<number[]> {
  const ports: number[] = [];
  while (ports.length < count) {
    const p = 20_000 + Math.floor(Math.random() * 25_000);
    if (ports.includes(p) || ports.includes(p + 10_000) || ports.includes(p - 10_000)) continue;
    if ((await portFree(p)) && (await portFree(p + 10_000))) ports.push(p);
  }
  return ports;
}

async function waitFor(what: string, timeoutMs: number, probe: () => Promise<boolean>): Promise<void> {
  const until = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < until) {
    try {
      if (await probe()) return;
    } catch (e) {
      last = e;
    }
    await sleep(100);
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}

async function command<T>(port: number, fn: (r: Redis) => Promise<T>): Promise<T> {
  const r = new Redis({ host: '127.0.0.1', port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 1000 });
  r.on('error', () => {});
  try {
    await r.connect();
    return await fn(r);
  } finally {
    r.disconnect();
  }
}

/** Starts the six nodes and creates the cluster (a few seconds). */
export async function startRedisCluster(options: { nodeTimeoutMs?: number } = {}): Promise<RedisClusterRig> {
  const dir = mkdtempSync(join(tmpdir(), 'sb-redis-cluster-'));
  const ports = await freePorts(6);
  const procs = new Map<number, ChildProcess>();
  const clients: Cluster[] = [];
  // A test process that dies without `stop` must not leave six servers behind.
  const killAll = () => {
    for (const p of procs.values()) if (p.exitCode === null) p.kill('SIGKILL');
  };
  process.once('exit', killAll);
  const stop = async () => {
    for (const c of clients) c.disconnect();
    process.off('exit', killAll);
    killAll();
    await Promise.all([...procs.values()].map((p) => (p.exitCode === null && p.signalCode === null ? new Promise((r) => p.once('exit', r)) : null)));
    if (!process.env.KEEP_CLUSTER_DIR) rmSync(dir, { recursive: true, force: true });
    else console.log('cluster dir', dir);
  };
  try {
    for (const port of ports) {
      const args = [
        '--port', String(port), '--bind', '127.0.0.1', '--dir', dir,
        '--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${port}.conf`,
        '--cluster-node-timeout', String(options.nodeTimeoutMs ?? 1000),
        // replicas sync at once and may always take over: a failover test must not wait on data age
        '--repl-diskless-sync-delay', '0', '--cluster-replica-validity-factor', '0',
        '--save', '', '--appendonly', 'no', '--protected-mode', 'no', '--logfile', join(dir, `${port}.log`),
      ];
      procs.set(port, spawn('redis-server', args, { stdio: 'ignore' }));
    }
    for (const port of ports) await waitFor(`redis node ${port}`, 10_000, () => command(port, async (r) => (await r.ping()) === 'PONG'));
    const create = spawnSync('redis-cli', ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '1', '--cluster-yes'], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    if (create.status !== 0) throw new Error(`redis-cli --cluster create failed: ${create.stdout}\n${create.stderr}`);
    await waitFor('cluster_state:ok on every node', 30_000, async () => {
      for (const port of ports) if (!/cluster_state:ok/.test(await command(port, (r) => r.cluster('INFO') as Promise<string>))) return false;
      return true;
    });
    // A replica that has not finished its first sync cannot take over from its master.
    await waitFor('every replica in sync', 30_000, async () => {
      let online = 0;
      for (const port of ports) online += ((await command(port, (r) => r.info('replication'))).match(/state=online/g) ?? []).length;
      return online === 3;
    });
  } catch (e) {
    await stop();
    throw e;
  }

  const nodes = ports.map((port) => ({ host: '127.0.0.1', port }));
  const alive = () => ports.filter((p) => procs.get(p)?.exitCode === null && procs.get(p)?.signalCode === null);
  const masterOf = async (key: string): Promise<number> => {
    for (const port of alive()) {
      try {
        return await command(port, async (r) => {
          const slot = (await r.cluster('KEYSLOT', key)) as number;
          const slots = await r.cluster('SLOTS');
          const range = slots.find(([from, to]) => slot >= from && slot <= to);
          const master = range?.[2];
          if (!master) throw new Error(`slot ${slot} unserved`);
          return master[1];
        });
      } catch {
        /* ask another node */
      }
    }
    throw new Error('no node answers');
  };
  return {
    url: `redis+cluster://${nodes.map((n) => `${n.host}:${n.port}`).join(',')}`,
    nodes,
    client() {
      const c = new Cluster(nodes, { redisOptions: { maxRetriesPerRequest: 2 } });
      c.on('error', () => {});
      clients.push(c);
      return c;
    },
    masterOf,
    async killMasterOf(key, timeoutMs = 30_000) {
      const started = Date.now();
      const killed = await masterOf(key);
      procs.get(killed)!.kill('SIGKILL');
      await new Promise((r) => procs.get(killed)!.once('exit', r));
      let promoted = killed;
      await waitFor(`a replica to take over from ${killed}`, timeoutMs, async () => {
        promoted = await masterOf(key);
        if (promoted === killed) return false;
        return /cluster_state:ok/.test(await command(promoted, (r) => r.cluster('INFO') as Promise<string>));
      });
      return { killed, promoted, tookMs: Date.now() - started };
    },
    stop,
  };
}
