/**
 * LangGraph's checkpointer conformance suite (`validate()` from
 * @langchain/langgraph-checkpoint-validation) on both databases. The suite needs every
 * checkpointer it creates to start empty: each database (one in-memory PGlite; one fresh schema
 * on server Postgres) is opened once per file and its checkpoint tables are emptied before each
 * new checkpointer — opening a fresh PGlite per checkpointer would cost ~2 s each, hundreds of times.
 */
import { validate } from '@langchain/langgraph-checkpoint-validation';
import { sql } from 'kysely';
import { createCheckpointer } from './checkpointer.js';
import { DB_CONTEXT, openStorage, type OpenedStorage } from './open-storage.js';
import { dropSchema, serverPostgres, TEST_DATABASE_URL, uniqueSchema } from '../../../test/support/postgres.js';
import type { OpenStorageOptions } from './types.js';

const server = await serverPostgres();

/** A database opened on first use, whose checkpoint tables are emptied for every new checkpointer. */
function emptiedPerCheckpointer(options: OpenStorageOptions) {
  let storage: Promise<OpenedStorage> | undefined;
  let created = 0;
  return {
    async createCheckpointer() {
      storage ??= openStorage(options) as Promise<OpenedStorage>;
      const opened = await storage;
      const { db, schema } = opened[DB_CONTEXT];
      await sql`TRUNCATE ${sql.table(`${schema}.checkpoints`)}, ${sql.table(`${schema}.checkpoint_blobs`)}, ${sql.table(`${schema}.checkpoint_writes`)}`.execute(db);
      created += 1;
      return createCheckpointer(opened);
    },
    async close() {
      await (await storage)?.close();
      return created;
    },
  };
}

const pglite = emptiedPerCheckpointer({});
validate({
  checkpointerName: 'PostgresSaver on PGlite (embedded)',
  createCheckpointer: pglite.createCheckpointer,
  async afterAll() {
    console.log(`checkpointer conformance on PGlite: ${await pglite.close()} checkpointers created`);
  },
});

if (server.available) {
  const schema = uniqueSchema('cp');
  const postgres = emptiedPerCheckpointer({ databaseUrl: TEST_DATABASE_URL, schema, poolMax: 4 });
  validate({
    checkpointerName: 'PostgresSaver on server Postgres',
    createCheckpointer: postgres.createCheckpointer,
    async afterAll() {
      console.log(`checkpointer conformance on server Postgres: ${await postgres.close()} checkpointers created`);
      await dropSchema(schema);
    },
  });
} else {
  describe.skip(`checkpointer conformance on server Postgres: ${server.reason}`, () => {
    it('skipped', () => {});
  });
}
