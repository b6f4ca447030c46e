/**
 * The Postgres + Redis stack for a measured gateway: a fresh database on the local Postgres and a
 * private `redis-server` on a free port (the gateway has no Redis key prefix, so a private server
 * is how one run stays isolated from every other user of the shared one).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './gateway-process.js';

/** The local Postgres server (the database name is replaced). */
export const POSTGRES_ADMIN_URL = process.env.LOADTEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** A running stack: pass `env` to the gateway, `close()` when done. */
export interface PostgresRedisStack {
  env: { DATABASE_URL: string; REDIS_URL: string };
  database: string;
  close(): Promise<void>;
}

function psql(sql: string): void {
  const r = spawnSync('psql', [POSTGRES_ADMIN_URL, '-v', 'ON_ERROR_STOP=1', '-qtAc', sql], { encoding: 'utf8', timeout: 30_000 });
  if (r.error) throw new Error(`psql could not run: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`psql failed (${sql}): ${r.stderr.trim()}`);
}

function pingRedis(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    const done = (ok: boolean) => (s.destroy(), resolve(ok));
    s.setTimeout(500, () => done(false));
    s.once('error', () => done(false));
    s.once('connect', () => s.write('PING\r\n'));
    s.once('data', (d) => done(d.toString().startsWith('+PONG')));
  });
}

/** A private, non-persistent redis-server on a free loopback port. */
export async function startPrivateRedis(): Promise<{ url: string; close(): Promise<void> }> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'switchboard-bench-redis-'));
  const child: ChildProcess = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no', '--daemonize', 'no', '--protected-mode', 'no'],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const close = async () => {
    process.off('exit', killOnExit);
    if (child.exitCode === null) {
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 10_000;
  while (!(await pingRedis(port))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await close();
      throw new Error(`redis-server on port ${port} did not answer: ${stderr.trim()}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { url: `redis://127.0.0.1:${port}`, close };
}

/** A fresh database plus a private Redis; `close()` drops the database and stops Redis. */
export async function startPostgresRedis(label: string): Promise<PostgresRedisStack> {
  const database = `switchboard_${label.replace(/[^a-z0-9_]/gi, '_').toLowerCase()}_${process.pid}_${Date.now().toString(36)}`;
  psql(`CREATE DATABASE ${database}`);
  let redis;
  try {
    redis = await startPrivateRedis();
  } catch (e) {
    psql(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    throw e;
  }
  const url = new URL(POSTGRES_ADMIN_URL);
  url.pathname = `/${database}`;
  return {
    env: { DATABASE_URL: url.toString(), REDIS_URL: redis.url },
    database,
    async close() {
      await redis.close();
      try {
        psql(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
      } catch {
        /* leave it; the name says who made it */
      }
    },
  };
}
