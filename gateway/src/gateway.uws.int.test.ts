import { describeGatewaySuite } from './gateway.contract.js';

describeGatewaySuite('uws');
