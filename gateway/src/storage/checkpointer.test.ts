/**
 * LangGraph's checkpointer conformance suite (`validate()` from
 * @langchain/langgraph-checkpoint-validation) on both databases. Every checkpointer starts empty:
 * a fresh in-memory PGlite, or a fresh schema on server Postgres.
 */
import { validate } from '@langchain/langgraph-checkpoint-validation';
import { createCheckpointer, type Checkpointer } from './checkpointer.js';
import { openStorage } from './open-storage.js';
import { dropSchema, serverPostgres, TEST_DATABASE_URL, uniqueSchema } from './test-support.js';
import type { Storage } from './types.js';

const server = await serverPostgres();
const opened = new Map<Checkpointer, { storage: Storage; schema?: string }>();

validate({
  checkpointerName: 'PostgresSaver on PGlite (embedded)',
  async createCheckpointer() {
    const storage = await openStorage();
    const saver = createCheckpointer(storage);
    opened.set(saver, { storage });
    return saver;
  },
  async destroyCheckpointer(saver) {
    await opened.get(saver)?.storage.close();
    opened.delete(saver);
  },
});

if (server.available) {
  validate({
    checkpointerName: 'PostgresSaver on server Postgres',
    async createCheckpointer() {
      const schema = uniqueSchema('cp');
      const storage = await openStorage({ databaseUrl: TEST_DATABASE_URL, schema, poolMax: 4 });
      const saver = createCheckpointer(storage);
      opened.set(saver, { storage, schema });
      return saver;
    },
    async destroyCheckpointer(saver) {
      const entry = opened.get(saver);
      opened.delete(saver);
      await entry?.storage.close();
      if (entry?.schema) await dropSchema(entry.schema);
    },
  });
} else {
  describe.skip(`checkpointer conformance on server Postgres: ${server.reason}`, () => {
    it('skipped', () => {});
  });
}
