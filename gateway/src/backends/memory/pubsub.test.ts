import { createMemoryPubSub } from './shared-state.js';
import { describePubSubContract } from '../../../test/contracts/pubsub.contract.js';

describePubSubContract('in-process', {
  shared: false,
  async harness() {
    return {
      async open() {
        return createMemoryPubSub();
      },
      async close() {},
    };
  },
});
