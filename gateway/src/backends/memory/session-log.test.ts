import { createMemorySessionLog } from './session-log.js';
import { describeSessionLogContract } from '../../../test/contracts/session-log.contract.js';

describeSessionLogContract('in-process', {
  shared: false,
  ageMs: 1_000,
  async harness() {
    let clock = 1_700_000_000_000;
    return {
      async open(retention) {
        return createMemorySessionLog(retention, () => clock);
      },
      async elapse(ms) {
        clock += ms;
      },
      async close() {},
    };
  },
});
