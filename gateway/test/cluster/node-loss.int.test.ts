/**
 * `kill -9` of the node running a stream: the client, connected through nginx, reconnects to the
 * other node, resumes by `seq`, and the survivor ends the orphaned run with
 * `done{reason:"error", error:{code:"node_lost"}}` once the run's lease lapses — no gap, no repeat.
 */
import { startCluster, type Cluster } from './cluster-harness.js';
import { joinAudited } from './frame-audit.js';
import { clusterPrerequisites } from './prerequisites.js';
import { eventually, within } from './processes.js';

const pre = await clusterPrerequisites();

describe.skipIf(!pre.available)(`losing a node mid-stream${pre.available ? '' : ` (skipped: ${pre.reason})`}`, () => {
  let cluster: Cluster;
  beforeAll(async () => {
    cluster = await startCluster({ nodes: 2, env: { LOCAL_MODEL_TOKEN_DELAY_MS: '20', RUN_LOCK_TTL_MS: '1500' } });
  });
  afterAll(async () => cluster?.stop());

  it('resumes on the survivor and ends the run once with done{error: node_lost}', async () => {
    const u = await cluster.user();
    const sessionId = await cluster.session(u.token);
    const client = cluster.client(u.token, { reconnectBaseMs: 50 });
    const { audit, readies } = await joinAudited(client, sessionId);
    const serving = readies[0]!.node;

    const run = client.send({ sessionId, text: 'a long answer please' });
    const tokens = () => audit.frames(`c:${sessionId}`).filter((f) => f.type === 'token').length;
    await eventually(() => tokens() >= 20, 'the stream to be under way');
    const victim = cluster.node(serving).child;
    victim.kill('SIGKILL');
    expect(await victim.exited).toBe('SIGKILL');
    const seenBefore = tokens();

    const done = await within(run.done, 15_000, `done after killing ${serving}:\n${await cluster.logs()}`);
    expect(done).toMatchObject({ type: 'done', reason: 'error', error: { code: 'node_lost' } });
    expect(seenBefore).toBeLessThan(400); // the run really was cut short
    expect(readies).toHaveLength(2);
    expect(readies[1]).toMatchObject({ resumed: true });
    expect(readies[1]!.node).not.toBe(serving);
    const report = audit.report();
    expect(report, report.problems.join('\n')).toMatchObject({ lost: 0, duplicated: 0, runs: 1, brokenRuns: 0 });
    expect(audit.frames(`c:${sessionId}`).at(-1)).toEqual(done);
    // Acked = stored: the turn is in the transcript, its answer the text the client saw.
    const seen = audit.frames(`c:${sessionId}`).map((f) => (f.type === 'token' ? f.text : '')).join('');
    const runId = await run.runId;
    await eventually(async () => {
      const res = await fetch(`${cluster.url}/v1/sessions/${sessionId}/messages`, { headers: { authorization: `Bearer ${u.token}` } });
      const rows = ((await res.json()) as { messages: Array<{ runId: string; role: string; content: string }> }).messages.filter((m) => m.runId === runId);
      return rows.some((m) => m.role === 'user') && rows.find((m) => m.role === 'assistant')?.content === seen;
    }, 'the lost run in the transcript, as the client saw it');

    // The session is free again: the survivor runs the next turn.
    const next = client.send({ sessionId, text: 'hello again' });
    expect((await within(next.done, 15_000, 'the next run')).reason).toBe('stop');
    expect(audit.report()).toMatchObject({ lost: 0, duplicated: 0, runs: 2, brokenRuns: 0 });
  });
});
