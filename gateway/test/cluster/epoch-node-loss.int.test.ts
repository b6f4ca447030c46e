/**
 * A node lost after Redis lost its data: Redis restarts empty (a new epoch), a run finishes in the
 * new epoch, a long run starts and the node serving the socket is SIGKILLed. The client resumes on
 * the survivor, which ends the run once with `done{error:node_lost}`: no `done{stop}` from a run
 * that could not have finished, no run left without a `done`, nothing lost or repeated.
 * (A chaos probe saw the run end `stop` on the other node, or with no `done` at all.)
 */
import type { ReadyFrame } from '@switchboard/protocol';
import { startCluster, type Cluster } from './cluster-harness.js';
import { FrameAudit } from './frame-audit.js';
import { clusterPrerequisites } from './prerequisites.js';
import { eventually, sleep, within } from './processes.js';

const pre = await clusterPrerequisites();
const ROUNDS = Number(process.env.PROBE_ROUNDS ?? 2);

describe.skipIf(!pre.available)(`losing a node after Redis lost its data${pre.available ? '' : ` (skipped: ${pre.reason})`}`, () => {
  let cluster: Cluster;
  beforeAll(async () => {
    cluster = await startCluster({ nodes: 3, env: { LOCAL_MODEL_TOKEN_DELAY_MS: '5', RUN_LOCK_TTL_MS: '3000', LOG_LEVEL: process.env.CLUSTER_LOG_LEVEL ?? 'warn' } });
  });
  afterAll(async () => cluster?.stop());

  it('ends the run on the survivor once with done{error: node_lost}', { timeout: 150_000 }, async () => {
    const u = await cluster.user();
    const sessionId = await cluster.session(u.token);
    const client = cluster.client(u.token, { reconnectBaseMs: 50 });
    const observer = cluster.client(u.token, { reconnectBaseMs: 50 });
    const audit = new FrameAudit();
    audit.watch(client, 'c');
    audit.watch(observer, 'o');
    const readies: ReadyFrame[] = [];
    client.onFrame((f) => f.type === 'ready' && readies.push(f));
    for (const c of [client, observer]) {
      await c.connect();
      await c.join(sessionId);
    }
    const stream = `c:${sessionId}`;
    const first = client.send({ sessionId, text: 'hello' });
    expect((await within(first.done, 15_000, 'the first run')).reason).toBe('stop');

    for (let round = 0; round < ROUNDS; round++) {
      // Redis restarts empty: the session's log starts a new epoch.
      await cluster.redis.crash({ loseData: true });
      await sleep(300);
      await cluster.redis.start();
      for (const node of cluster.nodes) await eventually(async () => (await node.readyz()).status === 200, `${node.id} ready after Redis is back`, 15_000, 100);

      const second = client.send({ sessionId, text: 'hello again' });
      expect((await within(second.done, 15_000, `the run in the new epoch:\n${await cluster.logs()}`)).reason).toBe('stop');

      const long = client.send({ sessionId, text: 'a long answer please' });
      const runId = await long.runId;
      const tokens = () => audit.frames(stream).filter((f) => f.type === 'token' && f.runId === runId).length;
      await eventually(() => tokens() >= 20, 'the long run to be under way');
      const serving = readies.at(-1)!.node;
      const victim = cluster.node(serving).child;
      victim.kill('SIGKILL');
      expect(await victim.exited).toBe('SIGKILL');
      const seenBefore = tokens();

      const done = await within(long.done, 20_000, `done after killing ${serving}:\n${await cluster.logs()}`);
      expect(done, await cluster.logs()).toMatchObject({ type: 'done', reason: 'error', error: { code: 'node_lost' } });
      expect(seenBefore).toBeLessThan(400);
      expect(readies.at(-1)!.node).not.toBe(serving);
      await eventually(() => audit.frames(`o:${sessionId}`).some((f) => f.type === 'done' && f.runId === runId), 'the observer to see the done', 20_000);
      await cluster.restart(serving);
    }
    await sleep(500);
    const report = audit.report();
    expect(report, report.problems.join('\n')).toMatchObject({ lost: 0, duplicated: 0, brokenRuns: 0 });
  });
});
