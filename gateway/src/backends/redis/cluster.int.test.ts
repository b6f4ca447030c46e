/**
 * The Redis backends on a real Redis Cluster (three masters, three replicas, started by the test
 * from `redis-server`): the session log, pub/sub (sharded), shared-state and limiter contracts,
 * the gateway suite, the key layout (every key of a session in one slot), and a master killed
 * mid-stream while two gateway nodes serve one session: its replica takes over and neither
 * node's client loses or repeats a frame.
 */
import type { AgentEvent } from '@switchboard/agent-core';
import type { ServerFrame } from '@switchboard/protocol';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Cluster } from 'ioredis';
import { describeGatewaySuite } from '../../../test/contracts/gateway.contract.js';
import { describeLimitersContract } from '../../../test/contracts/limiters.contract.js';
import { describePubSubContract } from '../../../test/contracts/pubsub.contract.js';
import { describeSessionLogContract } from '../../../test/contracts/session-log.contract.js';
import { describeSharedStateContract } from '../../../test/contracts/shared-state.contract.js';
import { startTestGateway, type RawSocket } from '../../../test/support/harness.js';
import { clusterPrerequisites, startRedisCluster, type RedisClusterRig } from '../../../test/support/redis-cluster.js';
import { uniquePrefix } from '../../../test/support/redis.js';
import { createLimiters } from '../../limits/limiters.js';
import type { AgentRunner, PubSub } from '../../ports.js';
import { openRedisClient } from './client.js';
import { createRedisPubSub } from './pubsub.js';
import { createRedisSessionLog } from './session-log.js';
import { createRedisIdempotencyStore, createRedisRunLock } from './shared-state.js';
import { parseRedisUrl } from './url.js';

const prerequisites = clusterPrerequisites();
if (!prerequisites.ok && process.env.CI === 'true') throw new Error(`Redis Cluster suite cannot run: ${prerequisites.reason}`);
const rig: RedisClusterRig | null = prerequisites.ok ? await startRedisCluster() : null;
afterAll(async () => rig?.stop());

/** Connections of one harness, each a separate "node" on the cluster. */
function clusterSpace(tag: string) {
  const target = parseRedisUrl(rig!.url);
  const clients: Cluster[] = [];
  const open = (subscriber = false) => {
    const c = openRedisClient(target, { maxRetriesPerRequest: 2, subscriber }) as Cluster;
    c.on('error', () => {});
    clients.push(c);
    return c;
  };
  return {
    prefix: uniquePrefix(tag),
    open,
    async ready(subscriber = false) {
      const c = open(subscriber);
      if (c.status !== 'ready') await new Promise((r) => c.once('ready', r));
      return c;
    },
    async close() {
      for (const c of clients) c.disconnect();
    },
  };
}

if (rig) {
  describeSessionLogContract('Redis Cluster', {
    shared: true,
    ageMs: 150,
    async harness() {
      const space = clusterSpace('log');
      return {
        lock: createRedisRunLock(space.open(), { keyPrefix: space.prefix }),
        open: async (retention, options = {}) => createRedisSessionLog(space.open(), { retention, keyPrefix: space.prefix, reservations: options.reservations }),
        elapse: sleep,
        close: () => space.close(),
      };
    },
  });

  describePubSubContract('Redis Cluster sharded pub/sub', {
    shared: true,
    async harness() {
      const space = clusterSpace('bus');
      const buses: PubSub[] = [];
      return {
        async open() {
          const bus = createRedisPubSub({ publisher: space.open(), subscriber: await space.ready(true), sharded: true });
          const prefixed: PubSub = {
            publish: (channel, message) => bus.publish(space.prefix + channel, message),
            subscribe: (channel, handler) => bus.subscribe(space.prefix + channel, handler),
            unsubscribe: (channel) => bus.unsubscribe(space.prefix + channel),
            close: () => bus.close(),
          };
          buses.push(prefixed);
          return prefixed;
        },
        async close() {
          await Promise.all(buses.map((b) => b.close()));
          await space.close();
        },
      };
    },
  });

  describeSharedStateContract('Redis Cluster', {
    shared: true,
    ttlMs: 150,
    async harness() {
      const space = clusterSpace('coord');
      return {
        lock: async () => createRedisRunLock(space.open(), { keyPrefix: space.prefix }),
        ids: async () => createRedisIdempotencyStore(space.open(), { keyPrefix: space.prefix }),
        elapse: sleep,
        close: () => space.close(),
      };
    },
  });

  describeLimitersContract('Redis Cluster', {
    shared: true,
    async harness() {
      const space = clusterSpace('rl');
      return {
        create: async (config, options) => createLimiters(config, await space.ready(), { keyPrefix: space.prefix, ...options }),
        close: () => space.close(),
      };
    },
  });

  describeGatewaySuite('uws', { name: 'redis-cluster', env: { REDIS_URL: rig.url } });

  describe('Redis Cluster start-up', () => {
    it('names REDIS_URL when it points at a cluster node without the cluster form', { timeout: 60_000 }, async () => {
      const { spawnSync } = await import('node:child_process');
      const node = rig.nodes[0]!;
      const r = spawnSync(process.execPath, ['--import', 'tsx', 'gateway/src/main.ts'], {
        cwd: new URL('../../../..', import.meta.url).pathname,
        env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', PORT: '0', REDIS_URL: `redis://${node.host}:${node.port}`, STARTUP_TIMEOUT_MS: '2000' },
        encoding: 'utf8',
        timeout: 50_000,
      });
      expect(r.status, r.stderr).toBe(78);
      expect(r.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^REDIS_URL: .*Redis Cluster node: use redis\+cluster:\/\//)]);
    });
  });

  describe('Redis Cluster key layout', () => {
    it("puts a session's log, seq counter, run lock and idempotency keys in one slot", async () => {
      const space = clusterSpace('slots');
      try {
        const redis = await space.ready();
        const sessionId = '6f1c2a4e-0000-4000-8000-000000000001';
        await createRedisSessionLog(redis, { keyPrefix: space.prefix }).append({ type: 'token', sessionId, runId: 'r1', text: 'x' } as never);
        await createRedisRunLock(redis, { keyPrefix: space.prefix }).acquire(sessionId, 'r1', 10_000);
        await createRedisIdempotencyStore(redis, { keyPrefix: space.prefix }).claim('send:u1:m1', 'r1', 10_000, sessionId);
        const keys = [`log:{${sessionId}}`, `seq:{${sessionId}}`, `lock:{${sessionId}}`, `idem:{${sessionId}}:send:u1:m1`].map((k) => space.prefix + k);
        const slots = new Set<number>();
        for (const key of keys) {
          expect(await redis.exists(key), key).toBe(1);
          slots.add((await redis.cluster('KEYSLOT', key)) as number);
        }
        slots.add((await redis.cluster('KEYSLOT', `sb:session:{${sessionId}}`)) as number);
        expect(slots.size).toBe(1);
      } finally {
        await space.close();
      }
    });
  });

  describe('Redis Cluster master failover mid-stream', () => {
    /** A run of `tokens` tokens, one every `delayMs`. */
    const slowAgent = (tokens: number, delayMs: number): AgentRunner => ({
      async *stream({ signal }): AsyncIterable<AgentEvent> {
        for (let i = 0; i < tokens && !signal.aborted; i++) {
          await sleep(delayMs);
          yield { type: 'token', text: `t${i} ` };
        }
        yield { type: 'done', reason: 'stop', model: 'slow' };
      },
    });

    it('loses and repeats no frame on either node while a replica takes over', { timeout: 120_000 }, async () => {
      const env = { REDIS_URL: rig.url, RATE_SENDS_PER_MINUTE: '1000', RATE_MESSAGES_PER_SECOND: '1000', RATE_MESSAGE_BURST: '1000' };
      const agent = slowAgent(40, 25);
      const a = await startTestGateway({ transport: 'uws', env, overrides: { agent } });
      const b = await startTestGateway({ transport: 'ws', env, overrides: { agent, storage: a.backends.storage } });
      try {
        const user = await a.user();
        const sessionId = await a.session(user.token);
        const sender = await a.raw({ token: user.token });
        const watcher = await b.raw({ token: user.token });
        for (const s of [sender, watcher]) {
          s.send({ type: 'join', sessionId });
          await s.next('joined');
        }
        const runs: string[] = [];
        const sendRun = async (n: number) => {
          sender.send({ type: 'send', id: `m${n}`, sessionId, text: `run ${n}` });
          const ack = await sender.next('ack', 30_000);
          runs.push(ack.runId);
          return ack.runId;
        };
        // Run 1 streams; the master of the session's slot dies after its first tokens; runs go on
        // one after the other until the replica has taken over and one more run has finished.
        const first = await sendRun(1);
        await waitForTokens(watcher, first, 3);
        const failover = rig.killMasterOf(`sb:log:{${sessionId}}`);
        let failedOver: Awaited<typeof failover> | undefined;
        void failover.then((f) => (failedOver = f));
        await sender.run(first, 60_000);
        let n = 1;
        while (!failedOver && n < 20) await sender.run(await sendRun(++n), 60_000);
        await failover;
        // and three more runs on the promoted master
        for (let i = 0; i < 3; i++) await sender.run(await sendRun(++n), 60_000);
        const last = runs[runs.length - 1]!;
        await watcher.run(last, 30_000);

        const reports = [audit(sender.frames, runs), audit(watcher.frames, runs)];
        console.log(
          `cluster failover: master ${failedOver!.killed} -> ${failedOver!.promoted} in ${failedOver!.tookMs} ms; ` +
            reports.map((r, i) => `${i === 0 ? 'sender (uws node)' : 'watcher (ws node)'}: ${r.frames} frames checked, ${r.lost} lost, ${r.duplicated} duplicated, ${r.runs} runs, ${r.errorRuns} ended in error`).join('; '),
        );
        for (const r of reports) {
          expect(r.problems).toEqual([]);
          expect(r.lost).toBe(0);
          expect(r.duplicated).toBe(0);
          // Tokens that wait behind a write are coalesced, so a run has at least user, one token and done.
          expect(r.frames).toBeGreaterThanOrEqual(runs.length * 3);
        }
        // Both nodes saw the very same frames.
        expect(sessionFrames(watcher.frames).map((f) => f.seq)).toEqual(sessionFrames(sender.frames).map((f) => f.seq));
      } finally {
        await b.stop();
        await a.stop();
      }
    });
  });
} else {
  describe.skip(`Redis Cluster: ${prerequisites.reason}`, () => it('skipped', () => {}));
}

type SeqFrame = ServerFrame & { seq: number; runId: string; type: string };
function sessionFrames(frames: ServerFrame[]): SeqFrame[] {
  return frames.filter((f): f is SeqFrame => typeof (f as { seq?: unknown }).seq === 'number');
}

async function waitForTokens(s: RawSocket, runId: string, count: number): Promise<void> {
  const until = Date.now() + 30_000;
  while (sessionFrames(s.frames).filter((f) => f.runId === runId && f.type === 'token').length < count) {
    if (Date.now() > until) throw new Error('no tokens');
    await sleep(10);
  }
}

/** Per socket: seq contiguous from the first frame seen, each run from `user` to exactly one `done`. */
function audit(frames: ServerFrame[], runs: string[]) {
  const list = sessionFrames(frames);
  const r = { frames: list.length, lost: 0, duplicated: 0, runs: 0, errorRuns: 0, problems: [] as string[] };
  let prev = list[0] ? list[0].seq - 1 : 0;
  for (const f of list) {
    if (f.seq <= prev) {
      r.duplicated++;
      r.problems.push(`seq ${f.seq} after ${prev}`);
      continue;
    }
    if (f.seq > prev + 1) {
      r.lost += f.seq - prev - 1;
      r.problems.push(`seqs ${prev + 1}..${f.seq - 1} missing`);
    }
    prev = f.seq;
  }
  for (const runId of runs) {
    const mine = list.filter((f) => f.runId === runId);
    const dones = mine.filter((f) => f.type === 'done');
    r.runs++;
    if (mine[0]?.type !== 'user' || dones.length !== 1 || mine[mine.length - 1]?.type !== 'done') r.problems.push(`run ${runId}: ${mine.length} frames, ${dones.length} done`);
    if (dones.some((d) => (d as { reason?: string }).reason === 'error')) r.errorRuns++;
  }
  return r;
}
