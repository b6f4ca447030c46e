import { sql } from 'kysely';
import { migrate } from './database.js';
import { migrationProvider } from './migrations.js';
import { DB_CONTEXT, openStorage, type OpenedStorage } from './open-storage.js';

describe('migrations#order', () => {
  it('runs a migration that sorts before applied ones (another branch’s 0004 after 0005 shipped), once', async () => {
    const storage = (await openStorage({})) as OpenedStorage;
    try {
      const ctx = storage[DB_CONTEXT];
      const shipped = migrationProvider({ vector: ctx.hasVector });
      const withLate = {
        async getMigrations() {
          return {
            ...(await shipped.getMigrations()),
            '0004_late': { up: async (db: typeof ctx.db) => void (await sql`CREATE TABLE late_branch (id int)`.execute(db)) },
          };
        },
      };
      await migrate(ctx, withLate);
      await migrate(ctx, withLate); // already applied: nothing runs twice
      const { rows } = await sql<{ name: string }>`SELECT name FROM kysely_migration ORDER BY name`.execute(ctx.db);
      const expected = [...Object.keys(await shipped.getMigrations()), '0004_late'].sort();
      expect(expected).toContain('0005_spend'); // the late one sorts before an applied one
      expect(rows.map((r) => r.name)).toEqual(expected);
      await expect(sql`SELECT count(*) FROM late_branch`.execute(ctx.db)).resolves.toBeTruthy();
    } finally {
      await storage.close();
    }
  });
});
