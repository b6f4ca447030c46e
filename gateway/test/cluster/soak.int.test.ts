/**
 * Soak: many clients stream long answers through nginx across three nodes while sockets are cut
 * at random moments (mid-stream, mid-replay, right after `ready`) until at least 1,000 forced
 * disconnects have happened. Every client must still see each session's frames exactly once, in
 * `seq` order, every run contiguous from its `user` frame to its single `done`.
 */
import { randomInt } from 'node:crypto';
import type { SessionFrame, SwitchboardClient } from '@switchboard/protocol';
import { startCluster, type Cluster } from './cluster-harness.js';
import { FrameAudit } from './frame-audit.js';
import { clusterPrerequisites } from './prerequisites.js';
import { eventually, sleep, within } from './processes.js';

const pre = await clusterPrerequisites();

const SESSIONS = 12;
const TARGET_DROPS = 1_000;
const DROP_EVERY_MS = 12;

interface Peer {
  client: SwitchboardClient;
  label: string;
  connected: boolean;
}

describe.skipIf(!pre.available)(`soak of forced disconnects across nodes${pre.available ? '' : ` (skipped: ${pre.reason})`}`, () => {
  let cluster: Cluster;
  beforeAll(async () => {
    cluster = await startCluster({ nodes: 3, env: { LOCAL_MODEL_TOKEN_DELAY_MS: '5' } });
  });
  afterAll(async () => cluster?.stop());

  it(`loses and repeats nothing over ${TARGET_DROPS}+ forced disconnects`, { timeout: 50_000 }, async () => {
    const audit = new FrameAudit();
    const peers: Peer[] = [];
    const nodesSeen = new Set<string>();
    const sessions: Array<{ id: string; sender: Peer; observer: Peer }> = [];
    await Promise.all(
      Array.from({ length: SESSIONS }, async (_, i) => {
        const u = await cluster.user();
        const id = await cluster.session(u.token);
        const open = async (role: string): Promise<Peer> => {
          const client = cluster.client(u.token, { reconnectBaseMs: 20, reconnectMaxMs: 500 });
          const peer: Peer = { client, label: `${role}${i}`, connected: false };
          client.onFrame((f) => {
            if (f.type !== 'ready') return;
            peer.connected = true;
            nodesSeen.add(f.node);
          });
          audit.watch(client, peer.label);
          await client.connect();
          await client.join(id);
          peers.push(peer);
          return peer;
        };
        sessions.push({ id, sender: await open('sender'), observer: await open('observer') });
      }),
    );

    // The last frames each observer got (kinds and seqs), for the failure message.
    const observerTail = new Map<string, string[]>();
    const traces = new Map<string, string[]>();
    for (const p of peers)
      p.client.onFrame((f) => {
        const tr = traces.get(p.label) ?? [];
        traces.set(p.label, tr);
        if (f.type === 'ready') tr.push(`ready(${f.node},resumed=${f.resumed},cid=${f.connectionId.slice(0, 6)})`);
        else if (f.type === 'joined') tr.push(`joined(seq=${f.seq},replayed=${f.replayed},gap=${f.gap})`);
        else if (f.type === 'error') tr.push(`error(${f.code}:${f.message})`);
        else if (f.type === 'ack') tr.push(`ack`);
        else if ('seq' in f) tr.push(`${f.type}${f.seq}`);
        const tail = f.type === 'ready' ? [] : (observerTail.get(p.label) ?? []);
        tail.push(`${f.type}${'seq' in f ? f.seq : ''}`);
        observerTail.set(p.label, tail.slice(-12));
      });
    /** The client's events around its first hole in `seq`. */
    const holeTrace = (label: string): string => {
      const tr = traces.get(label) ?? [];
      let prev = 0;
      for (let i = 0; i < tr.length; i++) {
        const m = /^(?:user|token|tool|done)(\d+)$/.exec(tr[i]!);
        if (!m) continue;
        const seq = Number(m[1]);
        if (seq > prev + 1 && prev > 0) return tr.slice(Math.max(0, i - 25), i + 5).join(' ');
        prev = Math.max(prev, seq);
      }
      return 'no hole';
    };
    let drops = 0;
    const dropper = setInterval(() => {
      if (drops >= TARGET_DROPS) return;
      const peer = peers[randomInt(peers.length)]!;
      if (!peer.connected) return;
      peer.connected = false;
      peer.client.dropConnection();
      drops++;
    }, DROP_EVERY_MS);

    let handleMismatches = 0;
    const senders = sessions.map(async ({ id, sender }) => {
      let runs = 0;
      while (drops < TARGET_DROPS || runs === 0) {
        // Only on an authenticated socket: frames written between a reconnect and its `ready` hit a
        // known gateway bug (hello-pipelining.int.test.ts) that closes the socket with 4001.
        await eventually(() => sender.connected, `${sender.label} to be connected`, 10_000, 2);
        const run = sender.client.send({ sessionId: id, text: 'a long answer please', ifBusy: 'enqueue' });
        const viaHandle: SessionFrame[] = [];
        void (async () => {
          for await (const f of run) viaHandle.push(f);
        })().catch(() => {});
        const runId = await within(run.runId, 20_000, `ack on ${sender.label}`);
        const stream = `${sender.label}:${id}`;
        await eventually(() => audit.frames(stream).some((f) => f.type === 'done' && f.runId === runId), `done of ${runId} on ${sender.label}`, 30_000, 20).catch(
          (e: Error) => {
            throw new Error(`${e.message}\ntrace: ${(traces.get(sender.label) ?? []).join(' ').slice(-3000)}`);
          },
        );
        await sleep(20);
        const expected = audit.frames(stream).filter((f) => f.runId === runId);
        // Known client bug (client-ack-loss.int.test.ts): a run whose ack was lost with the socket
        // misses its replayed first frames on the RunHandle. Counted, not asserted, until fixed.
        if (viaHandle.length !== expected.length) handleMismatches++;
        runs++;
      }
      return runs;
    });
    const runs = (await Promise.all(senders)).reduce((a, b) => a + b, 0);
    clearInterval(dropper);

    // Observers catch up with their senders (they may be mid-reconnect).
    for (const { id, sender, observer } of sessions) {
      const want = audit.frames(`${sender.label}:${id}`).length;
      await eventually(() => audit.frames(`${observer.label}:${id}`).length >= want, `${observer.label} to catch up`, 15_000, 20).catch(async (e: Error) => {
        const o = observer.client;
        throw new Error(
          `${e.message}: it has seq ${o.lastSeq(id)} of ${sender.client.lastSeq(id)}, connected=${observer.connected}, ` +
            `ready=${JSON.stringify({ node: o.ready?.node, connectionId: o.ready?.connectionId, resumed: o.ready?.resumed })}, ` +
            `frames after its last ready: ${JSON.stringify(observerTail.get(observer.label))}, ` +
            `audit: ${audit.report().problems.join('; ')}\ntrace around the hole: ${holeTrace(observer.label)}\n${await cluster.logs()}`,
        );
      });
    }
    const report = audit.report();
    if (report.problems.length) {
      for (const [label, tr] of traces) {
        const text = tr.join(' ');
        if (report.problems.some((p) => p.startsWith(`${label}:`))) console.log(`trace ${label} around its hole: ${holeTrace(label)} … ${text.length} chars`);
      }
    }
    const differing = sessions.filter(({ id, sender, observer }) => JSON.stringify(audit.frames(`${observer.label}:${id}`)) !== JSON.stringify(audit.frames(`${sender.label}:${id}`)));
    const duplicatesDropped = peers.reduce((n, p) => n + p.client.duplicatesDropped, 0);
    console.log(
      `soak: forced disconnects ${drops}, clients ${peers.length}, nodes ${[...nodesSeen].sort().join(',')}, runs ${runs}, ` +
        `frames checked ${report.frames}, lost ${report.lost}, duplicated ${report.duplicated}, broken runs ${report.brokenRuns}, ` +
        `replayed duplicates dropped by the client ${duplicatesDropped}, run handles short of frames ${handleMismatches}`,
    );
    expect(report, report.problems.join('\n')).toMatchObject({ lost: 0, duplicated: 0, brokenRuns: 0 });
    expect(differing.map((d) => d.id)).toEqual([]);
    expect(drops).toBeGreaterThanOrEqual(TARGET_DROPS);
    expect(nodesSeen.size).toBe(3);
    expect(report, report.problems.join('\n')).toMatchObject({ lost: 0, duplicated: 0, brokenRuns: 0 });
    expect(report.runs).toBe(runs * 2);
  });
});
