/**
 * Two gateway processes behind nginx on one Redis and one Postgres: clients on different nodes
 * share a session and see the very same frames, whichever node runs the turn.
 */
import type { ReadyFrame } from '@switchboard/protocol';
import { startCluster, type Cluster } from './cluster-harness.js';
import { FrameAudit } from './frame-audit.js';
import { clusterPrerequisites } from './prerequisites.js';
import { eventually, within } from './processes.js';

const pre = await clusterPrerequisites();

describe.skipIf(!pre.available)(`a session shared across nodes${pre.available ? '' : ` (skipped: ${pre.reason})`}`, () => {
  let cluster: Cluster;
  beforeAll(async () => {
    cluster = await startCluster({ nodes: 2, env: { LOCAL_MODEL_TOKEN_DELAY_MS: '2' } });
  });
  afterAll(async () => cluster?.stop());

  it('two clients on different nodes see identical frames for runs started on either node', async () => {
    const u = await cluster.user();
    const sessionId = await cluster.session(u.token);
    const [n1, n2] = cluster.nodes;
    const a = cluster.client(u.token, { url: n1!.wsUrl, reconnect: false });
    const b = cluster.client(u.token, { url: n2!.wsUrl, reconnect: false });
    // A third one through nginx, wherever round-robin puts it.
    const c = cluster.client(u.token);
    const audit = new FrameAudit();
    audit.watch(a, 'a');
    audit.watch(b, 'b');
    audit.watch(c, 'c');
    expect((await a.connect()).node).toBe(n1!.id);
    expect((await b.connect()).node).toBe(n2!.id);
    expect(cluster.nodes.map((n) => n.id)).toContain((await c.connect()).node);
    await Promise.all([a.join(sessionId), b.join(sessionId), c.join(sessionId)]);

    const first = a.send({ sessionId, text: 'a long answer please' });
    expect((await within(first.done, 20_000, 'the first run')).reason).toBe('stop');
    const second = b.send({ sessionId, text: 'what is 12*(3+4)?' });
    expect((await within(second.done, 20_000, 'the second run')).reason).toBe('stop');

    const twoDones = (who: string) => audit.frames(`${who}:${sessionId}`).filter((f) => f.type === 'done').length === 2;
    await eventually(() => ['a', 'b', 'c'].every(twoDones), 'both runs on every client', 10_000);
    const seen = audit.frames(`a:${sessionId}`);
    expect(audit.frames(`b:${sessionId}`)).toEqual(seen);
    expect(audit.frames(`c:${sessionId}`)).toEqual(seen);
    expect(seen.length).toBeGreaterThan(100);
    expect(seen.some((f) => f.type === 'tool')).toBe(true);
    expect(audit.report()).toMatchObject({ lost: 0, duplicated: 0, runs: 6, brokenRuns: 0 });
  });

  it('nginx spreads sockets over the nodes round-robin, with no stickiness', async () => {
    const u = await cluster.user();
    const nodes = new Set<string>();
    for (let i = 0; i < 4; i++) {
      const client = cluster.client(u.token, { reconnect: false });
      const ready: ReadyFrame = await client.connect();
      nodes.add(ready.node);
      client.close();
    }
    expect([...nodes].sort()).toEqual(cluster.nodes.map((n) => n.id).sort());
  });
});
