import { describeGatewaySuite } from '../test/contracts/gateway.contract.js';

describeGatewaySuite('uws');
