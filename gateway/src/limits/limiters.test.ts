import { createLimiters } from './limiters.js';
import { describeLimitersContract } from '../../test/contracts/limiters.contract.js';

describeLimitersContract('in memory', {
  shared: false,
  async harness() {
    return {
      create: async (config, options) => createLimiters(config, undefined, options),
      async close() {},
    };
  },
});

describe('in-memory limiters', () => {
  it('say where they count', () => {
    expect(createLimiters().backend()).toBe('memory');
  });
});
