/**
 * Redis restarted mid-run, under two gateways behind nginx (a private redis-server with an
 * fsync'd append-only file, as production would run it, so the restart keeps the data).
 *
 * What happens, as observed and asserted here:
 * - the gateways keep their sockets (no reconnect), `/readyz` answers 503 with
 *   `checks.redis: "failing: …"` while Redis is down and 200 again once it is back;
 * - the run in flight stops at its first token append that fails (ioredis gives up after
 *   `maxRetriesPerRequest`), so it ends with `done{reason:"error", error.code:"internal"}`; that
 *   `done` is written when Redis answers again (queued while reconnecting). Had writing it failed
 *   too, the run's lease would lapse and a node with sockets on the session would write
 *   `done{error:"node_lost"}` instead — either way exactly one `done`, and no frame lost or
 *   repeated (frames are only sent after the log accepted them);
 * - the next `send` on the session runs normally.
 */
import type { ServerFrame } from '@switchboard/protocol';
import { startCluster, type Cluster } from './cluster-harness.js';
import { FrameAudit } from './frame-audit.js';
import { clusterPrerequisites } from './prerequisites.js';
import { eventually, sleep, within } from './processes.js';

const pre = await clusterPrerequisites();

describe.skipIf(!pre.available)(`Redis restarted mid-run${pre.available ? '' : ` (skipped: ${pre.reason})`}`, () => {
  let cluster: Cluster;
  beforeAll(async () => {
    cluster = await startCluster({ nodes: 2, env: { LOCAL_MODEL_TOKEN_DELAY_MS: '40', RUN_LOCK_TTL_MS: '1500' }, redis: { persistent: true } });
  });
  afterAll(async () => cluster?.stop());

  it('keeps its sockets, reports not-ready while Redis is down, and recovers', async () => {
    const u = await cluster.user();
    const sessionId = await cluster.session(u.token);
    const client = cluster.client(u.token, { reconnectBaseMs: 50 });
    const events: ServerFrame[] = [];
    const audit = new FrameAudit();
    client.onFrame((f) => events.push(f));
    audit.watch(client, 'c');
    await client.connect();
    await client.join(sessionId);
    const run = client.send({ sessionId, text: 'a long answer please' });
    await eventually(() => audit.frames(`c:${sessionId}`).length >= 20, 'the stream to be under way');

    await cluster.redis.crash();
    for (const node of cluster.nodes)
      await eventually(async () => (await node.readyz()).status === 503, `${node.id} /readyz 503 while Redis is down`, 10_000, 100);
    const down = await cluster.nodes[0]!.readyz();
    expect(down.body.checks.redis).toMatch(/^failing/);
    expect(down.body.checks.database).toBe('ok');
    await sleep(1_000);
    await cluster.redis.start();
    for (const node of cluster.nodes) await eventually(async () => (await node.readyz()).status === 200, `${node.id} /readyz 200 after Redis is back`, 15_000, 100);

    const done = await within(run.done, 20_000, 'the run in flight to end');
    expect(done).toMatchObject({ reason: 'error' });
    expect(['internal', 'node_lost']).toContain(done.error?.code);
    expect(events.filter((f) => f.type === 'ready')).toHaveLength(1); // the socket was kept
    const next = client.send({ sessionId, text: 'hello again' });
    expect((await within(next.done, 15_000, 'the next run')).reason).toBe('stop');
    const report = audit.report();
    expect(report, report.problems.join('\n')).toMatchObject({ lost: 0, duplicated: 0, runs: 2, brokenRuns: 0 });
  });
});
