/**
 * The storage and memory store contracts on server Postgres (`TEST_DATABASE_URL`), each suite in
 * its own schema. Always runs in CI; elsewhere skipped, with the reason, when the server is down.
 */
import { storageMemoryStoreContract } from '../../../test/contracts/memory-store.js';
import { openStorage } from './open-storage.js';
import { storageContract, type StorageFactory } from '../../../test/contracts/storage.contract.js';
import { dropSchema, serverPostgres, TEST_DATABASE_URL, uniqueSchema } from '../../../test/support/postgres.js';
import type { StorageLogger } from './types.js';

const server = await serverPostgres();

function inFreshSchema(prefix: string, extra: { vector?: boolean; logger?: StorageLogger } = {}): StorageFactory {
  const schema = uniqueSchema(prefix);
  return {
    open: () => openStorage({ databaseUrl: TEST_DATABASE_URL, schema, poolMax: 4, ...extra }),
    cleanup: () => dropSchema(schema),
  };
}

if (server.available) {
  storageContract('server Postgres', inFreshSchema('st'));
  storageMemoryStoreContract(`server Postgres ${server.vector ? 'with' : 'without'} pgvector`, {
    ...inFreshSchema('mv'),
    expectVector: server.vector,
  });

  const warnings: string[] = [];
  const logger: StorageLogger = { info() {}, warn: (m) => warnings.push(m), error() {} };
  storageMemoryStoreContract('server Postgres with pgvector turned off', {
    ...inFreshSchema('mx', { vector: false, logger }),
    expectVector: false,
  });
  it('says once that memory search runs without the index', () => {
    expect(warnings.filter((w) => w.includes('exact cosine'))).toHaveLength(1);
  });

  describe('server Postgres specifics', () => {
    it('migrates a fresh schema even when another schema on the search path is migrated already', async () => {
      const first = uniqueSchema('ma');
      const second = uniqueSchema('mb');
      const a = await openStorage({ databaseUrl: TEST_DATABASE_URL, schema: first });
      const b = await openStorage({ databaseUrl: TEST_DATABASE_URL, schema: second });
      try {
        const user = await b.users.create({ email: 'schema@example.com', passwordHash: 'x' });
        expect(await a.users.findById(user.id)).toBeNull();
        expect(await b.memories.list(user.id)).toEqual([]);
      } finally {
        await a.close();
        await b.close();
        await dropSchema(first);
        await dropSchema(second);
      }
    });

    it.runIf(server.vector)('moves a real[] memory column onto pgvector when the extension becomes usable', async () => {
      const schema = uniqueSchema('up');
      try {
        const before = await openStorage({ databaseUrl: TEST_DATABASE_URL, schema, vector: false });
        const user = await before.users.create({ email: 'up@example.com', passwordHash: 'x' });
        await before.memories.add(user.id, { text: 'kept', embedding: [1, 0, 0] });
        await before.close();
        const after = await openStorage({ databaseUrl: TEST_DATABASE_URL, schema });
        expect(after.hasVector).toBe(true);
        expect((await after.memories.search(user.id, [1, 0, 0], 1))[0]).toMatchObject({ text: 'kept' });
        await after.close();
      } finally {
        await dropSchema(schema);
      }
    });

    it('fails to open with a typed error when the server is unreachable', async () => {
      const error = await openStorage({ databaseUrl: 'postgres://postgres@127.0.0.1:1/none' }).catch((e) => e);
      expect(error).toMatchObject({ name: 'StorageUnavailableError', code: 'unavailable' });
    });
  });
} else {
  describe.skip(`storage on server Postgres: ${server.reason}`, () => {
    it('skipped', () => {});
  });
}
