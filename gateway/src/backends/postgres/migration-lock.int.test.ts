/**
 * Migrations run under a Postgres advisory lock: three processes opening one fresh database at the
 * same moment all start, and the schema is migrated exactly once.
 */
import { migrationProvider } from './migrations.js';
import { spawn } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { createTestDatabase, type TestDatabase } from '../../../test/cluster/test-database.js';

const GATEWAY = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

function openOnce(url: string): Promise<{ code: number | null; output: string }> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/support/open-storage-once.ts', url], { cwd: GATEWAY, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    child.on('error', fail);
    child.on('exit', (code) => done({ code, output }));
  });
}

describe('migrations under an advisory lock', { timeout: 180_000 }, () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('lets three processes start together on a fresh database', async () => {
    const results = await Promise.all([openOnce(db.url), openOnce(db.url), openOnce(db.url)]);
    for (const r of results) {
      expect(r.code, r.output).toBe(0);
      expect(r.output).toContain('opened');
    }
    // Exactly one of them applied the migration; the others found it done.
    expect(results.filter((r) => r.output.includes('storage migrations applied'))).toHaveLength(1);
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      const { rows } = await client.query<{ name: string }>('SELECT name FROM kysely_migration ORDER BY name');
      expect(rows.map((r) => r.name)).toEqual(Object.keys(await migrationProvider({ vector: false }).getMigrations()).sort());
      const tables = await client.query<{ n: string }>(
        `SELECT count(*) AS n FROM information_schema.tables WHERE table_schema = 'public' AND table_name IN ('users','sessions','messages','checkpoints')`,
      );
      expect(Number(tables.rows[0]!.n)).toBe(4);
      const locks = await client.query<{ n: string }>(`SELECT count(*) AS n FROM pg_locks WHERE locktype = 'advisory'`);
      expect(Number(locks.rows[0]!.n), 'no advisory lock left behind').toBe(0);
    } finally {
      await client.end();
    }
  });
});
