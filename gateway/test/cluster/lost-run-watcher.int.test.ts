/**
 * The lost-run watcher alone ends a run whose node was SIGKILLed when nobody sends in its session
 * again: the run's own client is gone with the node and another node's socket follows the session.
 * That socket joined before the run, after the run's first frames, or after an epoch change (Redis
 * restarted empty); each time the follower's node ends the run once with `done{error:node_lost}`.
 * (Chaos found runs left without a `done` when kills went on after the clients stopped sending.)
 */
import type { SwitchboardClient } from '@switchboard/protocol';
import { startCluster, type Cluster, type TestUser } from './cluster-harness.js';
import { FrameAudit } from './frame-audit.js';
import { clusterPrerequisites } from './prerequisites.js';
import { eventually, sleep, within } from './processes.js';

const pre = await clusterPrerequisites();

type When = 'before the run' | 'after its first frames' | 'after an epoch change';

describe.skipIf(!pre.available)(`the lost-run watcher${pre.available ? '' : ` (skipped: ${pre.reason})`}`, () => {
  let cluster: Cluster;
  beforeAll(async () => {
    cluster = await startCluster({ nodes: 2, env: { LOCAL_MODEL_TOKEN_DELAY_MS: '20', RUN_LOCK_TTL_MS: '1500', LOG_LEVEL: process.env.CLUSTER_LOG_LEVEL ?? 'warn' } });
  });
  afterAll(async () => cluster?.stop());

  const direct = (u: TestUser, node: number): SwitchboardClient => cluster.client(u.token, { url: cluster.nodes[node]!.wsUrl, reconnectBaseMs: 50 });

  for (const when of ['before the run', 'after its first frames', 'after an epoch change'] as When[]) {
    it(`ends the run when the follower joined ${when}`, { timeout: 60_000 }, async () => {
      if (!cluster.nodes[0]!.child.alive) await cluster.restart(cluster.nodes[0]!.id);
      const u = await cluster.user();
      const sessionId = await cluster.session(u.token);
      const audit = new FrameAudit();
      if (when === 'after an epoch change') {
        // A run in the old epoch, then Redis restarts empty.
        const c = direct(u, 1);
        await c.connect();
        await c.join(sessionId);
        await within(c.send({ sessionId, text: 'hello' }).done, 15_000, 'a run in the old epoch');
        c.close();
        await cluster.redis.crash({ loseData: true });
        await sleep(300);
        await cluster.redis.start();
        for (const node of cluster.nodes) await eventually(async () => (await node.readyz()).status === 200, `${node.id} ready`, 15_000, 100);
      }
      const sender = direct(u, 0);
      await sender.connect();
      await sender.join(sessionId);
      const follower = direct(u, 1);
      audit.watch(follower, 'f');
      if (when !== 'after its first frames') {
        await follower.connect();
        await follower.join(sessionId);
      }
      const seen: string[] = [];
      sender.onFrame((f) => f.type === 'token' && seen.push(f.text));
      const run = sender.send({ sessionId, text: 'a long answer please' });
      run.done.catch(() => {});
      const runId = await run.runId;
      await eventually(() => seen.length >= 10, 'the run to stream');
      if (when === 'after its first frames') {
        await follower.connect();
        await follower.join(sessionId);
      }
      const victim = cluster.nodes[0]!.child;
      victim.kill('SIGKILL');
      await victim.exited;
      sender.close();
      const stream = `f:${sessionId}`;
      await eventually(() => audit.frames(stream).some((f) => f.type === 'done' && f.runId === runId), `the follower to see the run end:\n${await cluster.logs()}`, 20_000);
      const done = audit.frames(stream).filter((f) => f.type === 'done' && f.runId === runId);
      expect(done).toHaveLength(1);
      expect(done[0]).toMatchObject({ reason: 'error', error: { code: 'node_lost' } });
      await sleep(2_000);
      expect(audit.frames(stream).filter((f) => f.type === 'done' && f.runId === runId)).toHaveLength(1);
      const report = audit.report();
      // A follower that joined without `after` starts where the session was: only its own stream is contiguous.
      expect(report, report.problems.join('\n')).toMatchObject({ lost: when === 'before the run' ? 0 : report.lost, duplicated: 0 });
      follower.close();
    });
  }
});
