/**
 * The session log contract on a real Redis (`TEST_REDIS_URL`), plus what only Redis has: key
 * expiry, a lost counter, script cache loss, input checks. Always runs in CI; elsewhere skipped,
 * with the reason, when Redis is down.
 */
import { Command } from 'ioredis';
import { createRedisSessionLog } from './session-log.js';
import { createRedisRunLock } from './shared-state.js';
import { redisTestSpace, type RedisTestSpace } from '../../../test/support/redis-harness.js';
import { serverRedis, sleep } from '../../../test/support/redis.js';
import { describeSessionLogContract } from '../../../test/contracts/session-log.contract.js';

const server = await serverRedis();

if (server.available) {
  describeSessionLogContract('Redis Streams', {
    shared: true,
    ageMs: 150,
    async harness() {
      const space = redisTestSpace('log');
      return {
        lock: createRedisRunLock(space.connect(), { keyPrefix: space.prefix }),
        async open(retention, options = {}) {
          return createRedisSessionLog(space.connect(), { retention, keyPrefix: space.prefix, reservations: options.reservations });
        },
        elapse: sleep,
        close: () => space.close(),
      };
    },
  });

  describe('Redis session log', () => {
    let space: RedisTestSpace;
    beforeEach(() => {
      space = redisTestSpace('log');
    });
    afterEach(() => space.close());

    const token = (i: number) => ({ type: 'token', sessionId: 's1', runId: 'r1', text: `t${i}` }) as const;

    it('keeps a session in two hash-tagged keys that expire when the session goes quiet', async () => {
      const redis = space.connect();
      const log = createRedisSessionLog(redis, { keyPrefix: space.prefix, retention: { maxAgeMs: 60_000 }, seqTtlMs: 120_000 });
      await log.append(token(1));
      const keys = (await redis.keys(`${space.prefix}*`)).sort();
      expect(keys).toEqual([`${space.prefix}log:{s1}`, `${space.prefix}meta:{s1}`, `${space.prefix}seq:{s1}`]);
      const streamTtl = await redis.pttl(`${space.prefix}log:{s1}`);
      const seqTtl = await redis.pttl(`${space.prefix}seq:{s1}`);
      expect(streamTtl).toBeGreaterThan(50_000);
      expect(streamTtl).toBeLessThanOrEqual(60_000);
      expect(seqTtl).toBeGreaterThan(110_000);
      await log.delete('s1');
      expect(await redis.keys(`${space.prefix}*`)).toEqual([]);
    });

    it('never reuses a seq when the counter was lost but frames remain', async () => {
      const redis = space.connect();
      const log = createRedisSessionLog(redis, { keyPrefix: space.prefix });
      for (let i = 1; i <= 3; i++) await log.append(token(i));
      await redis.del(`${space.prefix}seq:{s1}`);
      expect((await log.append(token(4))).seq).toBe(4);
      expect(await log.lastSeq('s1')).toBe(4);
      expect((await log.readAfter('s1', 0)).frames.map((f) => f.seq)).toEqual([1, 2, 3, 4]);
    });

    it('writes a batch once when the client resends its script (a reply lost with the connection)', async () => {
      const redis = space.connect();
      // Appends go out as commands of their own (not through the client's evalsha): resend those.
      const resending = new Proxy(redis, {
        get(target, key, receiver) {
          if (key !== 'sendCommand') return Reflect.get(target, key, receiver);
          return (command: Command, stream?: Parameters<typeof redis.sendCommand>[1]) => {
            if (command.name === 'evalsha') target.sendCommand(new Command('evalsha', command.args, { replyEncoding: 'utf8' }), stream);
            return target.sendCommand(command, stream);
          };
        },
      });
      const log = createRedisSessionLog(resending, { keyPrefix: space.prefix });
      await log.append(token(1));
      const batch = await log.appendBatch([token(2), token(3)]);
      expect(batch.map((w) => w.frame.seq)).toEqual([2, 3]);
      expect((await log.readAfter('s1', 0)).frames.map((f) => f.seq)).toEqual([1, 2, 3]);
    });

    it('sends the appends of many sessions made in one turn together, each session in order', async () => {
      const log = createRedisSessionLog(space.connect(), { keyPrefix: space.prefix });
      const sessions = Array.from({ length: 20 }, (_, i) => `s${i}`);
      const frame = (sessionId: string, i: number) => ({ type: 'token', sessionId, runId: 'r1', text: `t${i}` }) as const;
      for (let round = 0; round < 3; round++) {
        const written = await Promise.all(sessions.map((id) => log.appendBatch([frame(id, 2 * round), frame(id, 2 * round + 1)])));
        for (const w of written) expect(w.map((x) => x.frame.seq)).toEqual([2 * round + 1, 2 * round + 2]);
      }
      for (const id of sessions) {
        const { frames } = await log.readAfter(id, 0);
        expect(frames.map((f) => (f.type === 'token' ? f.text : ''))).toEqual(['t0', 't1', 't2', 't3', 't4', 't5']);
      }
    });

    it('reloads its scripts after the server forgot them', async () => {
      const redis = space.connect();
      const log = createRedisSessionLog(redis, { keyPrefix: space.prefix });
      await log.append(token(1));
      await redis.script('FLUSH');
      expect((await log.append(token(2))).seq).toBe(2);
      expect((await log.readAfter('s1', 1)).frames.map((f) => f.seq)).toEqual([2]);
    });

    it('rejects bad arguments with clear errors', async () => {
      const log = createRedisSessionLog(space.connect(), { keyPrefix: space.prefix });
      await expect(log.readAfter('s1', -1)).rejects.toThrow(/after must be an integer >= 0/);
      await expect(log.readAfter('s1', 0, 1.5)).rejects.toThrow(/limit must be an integer >= 0/);
      await expect(log.readAfter('', 0)).rejects.toThrow(/sessionId/);
      expect(() => createRedisSessionLog(space.connect(), { retention: { maxFrames: 0 } })).toThrow(/maxFrames/);
    });
  });
} else {
  describe.skip(`Redis session log: ${server.reason}`, () => {
    it('needs Redis', () => {});
  });
}
