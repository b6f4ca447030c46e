import { describeGatewaySuite } from '../test/contracts/gateway.contract.js';
import { serverRedis, TEST_REDIS_URL } from '../test/support/redis.js';

// The same gateway suite with the frame log, bus, run locks and idempotency keys on real Redis.
const redis = await serverRedis();
if (redis.available) describeGatewaySuite('uws', { name: 'redis', env: { REDIS_URL: TEST_REDIS_URL } });
else describe.skip(`gateway on Redis: ${redis.reason}`, () => it('skipped', () => {}));
