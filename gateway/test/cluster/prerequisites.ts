/**
 * What the multi-process suites need: nginx, a `redis-server` binary (each file runs a private
 * one) and a server Postgres. With `CI=true` they must be there (the suites always run in CI);
 * elsewhere the suites skip with the reason.
 */
import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import pg from 'pg';
import { NGINX_BIN } from './nginx-proxy.js';
import { TEST_DATABASE_URL } from './test-database.js';

export interface ClusterPrerequisites {
  available: boolean;
  /** Why the suites are skipped, when they are. */
  reason: string;
}

let probe: Promise<ClusterPrerequisites> | undefined;

/** Checks once per file. In CI a missing piece throws. */
export function clusterPrerequisites(): Promise<ClusterPrerequisites> {
  probe ??= (async () => {
    const missing: string[] = [];
    try {
      accessSync(NGINX_BIN, constants.X_OK);
    } catch {
      missing.push(`nginx not found at ${NGINX_BIN} (set NGINX_BIN or apt-get install nginx)`);
    }
    if (spawnSync('redis-server', ['--version']).status !== 0) missing.push('redis-server not on PATH (infra/scripts/ensure-redis.sh installs it)');
    const client = new pg.Client({ connectionString: TEST_DATABASE_URL, connectionTimeoutMillis: 3_000 });
    try {
      await client.connect();
    } catch (e) {
      missing.push(`server Postgres unreachable at ${TEST_DATABASE_URL}: ${(e as Error).message} (infra/scripts/ensure-postgres.sh)`);
    } finally {
      await client.end().catch(() => {});
    }
    if (missing.length === 0) return { available: true, reason: '' };
    const reason = missing.join('; ');
    if (process.env.CI === 'true') throw new Error(`multi-process suites cannot run: ${reason} (CI=true: they must run)`);
    console.warn(`skipping multi-process suites: ${reason}`);
    return { available: false, reason };
  })();
  return probe;
}
