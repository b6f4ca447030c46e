import { memoryStoreContract } from '../../test/contracts/memory-store.contract.js';
import { createInMemoryStore } from './in-memory-store.js';

// The in-memory store takes any input, so the bad-input case of the contract is skipped for it.
memoryStoreContract('in-memory', {
  async open() {
    let n = 0;
    return { store: createInMemoryStore(), newUser: async () => `user-${++n}` };
  },
});
