/**
 * agent-core's memory store contract, run on the gateway's storage (PGlite or Postgres): users are
 * real rows, bad input is refused with the storage's typed errors, and pgvector use is checked.
 */
import { memoryStoreContract, type MemoryStoreFactory } from '../../../agent-core/test/contracts/memory-store.contract.js';
import { InvalidInputError, NotFoundError } from '../../src/backends/postgres/errors.js';
import type { Storage } from '../../src/backends/postgres/types.js';
import type { StorageFactory } from './storage.contract.js';

/** Runs the memory store contract on a storage factory; `expectVector` says whether pgvector should be in use. */
export function storageMemoryStoreContract(name: string, factory: StorageFactory & { expectVector: boolean }): void {
  let storage: Storage | undefined;
  const adapted: MemoryStoreFactory = {
    async open() {
      const s = await factory.open();
      storage = s;
      return {
        store: s.memories,
        newUser: async (email) => (await s.users.create({ email, passwordHash: 'x' })).id,
        close: () => s.close(),
      };
    },
    cleanup: factory.cleanup,
    usesVector: { expected: factory.expectVector, actual: () => storage!.hasVector },
    rejects: { invalidInput: InvalidInputError, unknownUser: NotFoundError },
  };
  memoryStoreContract(name, adapted);
}
