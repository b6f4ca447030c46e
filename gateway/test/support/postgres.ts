/**
 * Helpers for tests that need a server Postgres. They read `TEST_DATABASE_URL`
 * (default `postgres://postgres@127.0.0.1:5432/switchboard_test`). With `CI=true` the server must
 * answer (the suites always run in CI); elsewhere the suites skip with the reason.
 * Each suite gets its own schema, so parallel test files never collide.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/switchboard_test';

export interface ServerPostgres {
  available: boolean;
  /** Why the server suites are skipped, when they are. */
  reason: string;
  /** Whether pgvector can be used in that database. */
  vector: boolean;
}

let probe: Promise<ServerPostgres> | undefined;

/** Probes the test server once per file. In CI an unreachable server throws. */
export function serverPostgres(): Promise<ServerPostgres> {
  probe ??= (async () => {
    const client = new pg.Client({ connectionString: TEST_DATABASE_URL, connectionTimeoutMillis: 3_000 });
    try {
      await client.connect();
      const { rows } = await client.query<{ n: string }>(
        "SELECT count(*) AS n FROM pg_available_extensions WHERE name = 'vector'",
      );
      return { available: true, reason: '', vector: Number(rows[0].n) > 0 };
    } catch (error) {
      const reason = `server Postgres unreachable at ${TEST_DATABASE_URL}: ${(error as Error).message}`;
      if (process.env.CI === 'true') throw new Error(`${reason} (CI=true: run infra/scripts/ensure-postgres.sh)`);
      console.warn(`skipping server Postgres suites: ${reason}`);
      return { available: false, reason, vector: false };
    } finally {
      await client.end().catch(() => {});
    }
  })();
  return probe;
}

/** A fresh schema name, unique per call. */
export function uniqueSchema(prefix: string): string {
  return `${prefix}_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
}

/** Drops a test schema and everything in it. */
export async function dropSchema(schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await client.end();
  }
}
