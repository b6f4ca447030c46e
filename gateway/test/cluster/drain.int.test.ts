/**
 * SIGTERM drain across nodes behind nginx: the draining node answers /readyz 503, sends `goaway`,
 * refuses new upgrades (nginx moves on to the next node), lets a running stream finish within
 * DRAIN_TIMEOUT_MS (or ends it `interrupted` past it) and exits; the client resumes elsewhere and
 * loses nothing.
 */
import type { ReadyFrame, ServerFrame, SwitchboardClient } from '@switchboard/protocol';
import { startCluster, type Cluster, type TestUser } from './cluster-harness.js';
import { FrameAudit } from './frame-audit.js';
import { clusterPrerequisites } from './prerequisites.js';
import { eventually, within } from './processes.js';

const pre = await clusterPrerequisites();

describe.skipIf(!pre.available)(`draining a node${pre.available ? '' : ` (skipped: ${pre.reason})`}`, () => {
  let cluster: Cluster;
  beforeAll(async () => {
    cluster = await startCluster({
      nodes: 3,
      env: { LOCAL_MODEL_TOKEN_DELAY_MS: '10' },
      // n1 drains patiently, n2 gives runs 800 ms.
      nodeEnv: [{ DRAIN_TIMEOUT_MS: '20000' }, { DRAIN_TIMEOUT_MS: '800' }],
    });
  });
  afterAll(async () => cluster?.stop());

  /** A client through nginx that landed on `nodeId` (round-robin: a few tries at most). */
  async function clientOn(user: TestUser, nodeId: string): Promise<{ client: SwitchboardClient; events: ServerFrame[]; audit: FrameAudit }> {
    for (let i = 0; i < 12; i++) {
      const client = cluster.client(user.token, { reconnectBaseMs: 50 });
      const events: ServerFrame[] = [];
      const audit = new FrameAudit();
      client.onFrame((f) => events.push(f));
      audit.watch(client, 'c');
      if ((await client.connect()).node === nodeId) return { client, events, audit };
      client.close();
    }
    throw new Error(`nginx never sent a socket to ${nodeId}`);
  }

  const readies = (events: ServerFrame[]) => events.filter((f): f is ReadyFrame => f.type === 'ready');

  it('finishes the running stream, answers /readyz 503, and the client resumes elsewhere with no loss', async () => {
    const u = await cluster.user();
    const sessionId = await cluster.session(u.token);
    const n1 = cluster.node('n1');
    const { client, events, audit } = await clientOn(u, n1.id);
    await client.join(sessionId);
    const run = client.send({ sessionId, text: 'a long answer please' });
    await eventually(() => audit.frames(`c:${sessionId}`).length >= 20, 'the stream to be under way');

    n1.child.kill('SIGTERM');
    await eventually(async () => (await n1.readyz().catch(() => null))?.status === 503, 'n1 /readyz to answer 503', 5_000, 20);
    expect((await n1.readyz()).body).toMatchObject({ status: 'not_ready', draining: true });
    await eventually(() => events.some((f) => f.type === 'goaway'), 'goaway');

    const done = await within(run.done, 20_000, 'done of the draining run');
    expect(done.reason).toBe('stop');
    const r = readies(events);
    expect(r.length).toBeGreaterThanOrEqual(2);
    expect(r.at(-1)).toMatchObject({ resumed: true });
    expect(r.at(-1)!.node).not.toBe(n1.id);
    // The client moved before the run ended: the tail of the stream came through another node.
    expect(events.indexOf(r[1]!)).toBeLessThan(events.indexOf(events.find((f) => f.type === 'done')!));
    const report = audit.report();
    expect(report, report.problems.join('\n')).toMatchObject({ lost: 0, duplicated: 0, runs: 1, brokenRuns: 0 });
    expect(await within(n1.child.exited, 15_000, 'n1 to exit')).toBe(0);
  });

  it('ends a run still going past DRAIN_TIMEOUT_MS with done{interrupted}, exactly once', async () => {
    const u = await cluster.user();
    const sessionId = await cluster.session(u.token);
    const n2 = cluster.node('n2');
    const { client, events, audit } = await clientOn(u, n2.id);
    await client.join(sessionId);
    const run = client.send({ sessionId, text: 'a long answer please' });
    await eventually(() => audit.frames(`c:${sessionId}`).length >= 20, 'the stream to be under way');

    n2.child.kill('SIGTERM');
    const done = await within(run.done, 15_000, 'done of the interrupted run');
    expect(done.reason).toBe('interrupted');
    expect(events.some((f) => f.type === 'goaway')).toBe(true);
    expect(await within(n2.child.exited, 15_000, 'n2 to exit')).toBe(0);
    await eventually(() => readies(events).at(-1)?.node === 'n3', 'the client to resume on n3');
    expect(readies(events).at(-1)).toMatchObject({ resumed: true });
    const report = audit.report();
    expect(report, report.problems.join('\n')).toMatchObject({ lost: 0, duplicated: 0, runs: 1, brokenRuns: 0 });

    // The surviving node takes the next turn on the same session.
    const next = client.send({ sessionId, text: 'hello again' });
    expect((await within(next.done, 15_000, 'the next run')).reason).toBe('stop');
    expect(audit.report()).toMatchObject({ lost: 0, duplicated: 0, runs: 2, brokenRuns: 0 });
  });
});
