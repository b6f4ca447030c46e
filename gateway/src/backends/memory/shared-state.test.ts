import { describeSharedStateContract } from '../../../test/contracts/shared-state.contract.js';
import { createMemoryIdempotencyStore, createMemoryRunLock } from './shared-state.js';

describeSharedStateContract('in-process', {
  shared: false,
  ttlMs: 1_000,
  async harness() {
    let clock = 1_700_000_000_000;
    const now = () => clock;
    // one node: every call returns the same instance, since in-process state is per instance
    const lock = createMemoryRunLock(now);
    const ids = createMemoryIdempotencyStore(now, { lock });
    return {
      lock: async () => lock,
      ids: async () => ids,
      async elapse(ms) {
        clock += ms;
      },
      async close() {},
    };
  },
});
