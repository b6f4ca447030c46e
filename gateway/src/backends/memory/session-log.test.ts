import { createMemorySessionLog } from './session-log.js';
import { createMemoryRunLock } from './shared-state.js';
import { describeSessionLogContract } from '../../../test/contracts/session-log.contract.js';

describeSessionLogContract('in-process', {
  shared: false,
  ageMs: 1_000,
  async harness() {
    let clock = 1_700_000_000_000;
    const lock = createMemoryRunLock();
    return {
      lock,
      async open(retention, options = {}) {
        return createMemorySessionLog(retention, () => clock, { holder: (s) => lock.holderNow(s), release: (s, lease) => void lock.release(s, lease), reservations: options.reservations });
      },
      async elapse(ms) {
        clock += ms;
      },
      async close() {},
    };
  },
});
