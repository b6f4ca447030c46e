/**
 * Chaos against a cluster: clients on shared sessions drop their sockets at random and resume
 * half with `hello{resume}` and half with `join{after}`, nodes are SIGKILLed and started again,
 * Redis is restarted keeping its data and losing it. What the clients saw is checked: `seq`
 * contiguous per session within each epoch, nothing delivered twice, exactly one `done` per run,
 * and the transcript equal to what clients saw for every finished run. Used by the CI suite
 * (chaos.int.test.ts, short) and `pnpm soak` (soak-cli.ts, minutes).
 */
import { randomInt } from 'node:crypto';
import { Redis } from 'ioredis';
import type { SessionFrame, SwitchboardClient } from '@switchboard/protocol';
import type { Cluster } from './cluster-harness.js';
import { FrameAudit, type AuditReport } from './frame-audit.js';
import { eventually, sleep } from './processes.js';

export interface ChaosOptions {
  sessions: number;
  /** Forced disconnects to reach before the senders stop. */
  drops: number;
  dropEveryMs: number;
  /** Least and most time between node kills (0: none). */
  killEveryMs: [number, number];
  /**
   * Chance (0-1) that a data-losing Redis restart comes right after a node kill, within the same
   * lease, on top of the kills at random times: a run whose node died then is in no log and may
   * be followed by no node. @default 0.5
   */
  killBeforeLose?: number;
  /** Kill a node as the drops end too, so a run whose node dies is left to the lost-run watcher alone. */
  killAtEnd?: boolean;
  /** Redis restarts, spread over the run: `keep` (persistent) or `lose` (its data is wiped). */
  redisRestarts: Array<'keep' | 'lose'>;
  log?: (line: string) => void;
}

export interface ChaosReport extends AuditReport {
  clients: number;
  nodes: number;
  drops: number;
  kills: number;
  redisRestarts: number;
  runsSent: number;
  /** Runs no client saw end and whose transcript has no answer either. */
  runsWithoutDone: number;
  /** Finished runs whose transcript answer differs from the tokens a client saw. */
  transcriptMismatches: number;
  transcriptChecked: number;
}

interface Peer {
  client: SwitchboardClient;
  label: string;
  connected: boolean;
  /** Resumes with `join{after}` (no resume token) instead of `hello{resume}`. */
  joinStyle: boolean;
}

export async function runChaos(cluster: Cluster, o: ChaosOptions): Promise<ChaosReport> {
  const log = o.log ?? (() => {});
  const audit = new FrameAudit();
  const peers: Peer[] = [];
  const sessions: Array<{ id: string; token: string; sender: Peer; observer: Peer }> = [];
  await Promise.all(
    Array.from({ length: o.sessions }, async (_, i) => {
      const u = await cluster.user();
      const id = await cluster.session(u.token);
      const open = async (role: string, joinStyle: boolean): Promise<Peer> => {
        const client = cluster.client(u.token, { reconnectBaseMs: 20, reconnectMaxMs: 500, maxReconnectAttempts: Number(process.env.CHAOS_RECONNECTS ?? 10_000) });
        const peer: Peer = { client, label: `${role}${i}`, connected: false, joinStyle };
        client.onFrame((f) => {
          if (f.type === 'ready') peer.connected = true;
        });
        client.on('state', (state, detail) => {
          if (state === 'disconnected' && !stopping) log(`chaos: ${peer.label} gave up reconnecting after ${detail.attempt} attempts: ${detail.error?.message ?? ''}`);
        });
        audit.watch(client, peer.label);
        await client.connect();
        await client.join(id);
        peers.push(peer);
        return peer;
      };
      sessions.push({ id, token: u.token, sender: await open('sender', i % 2 === 0), observer: await open('observer', i % 2 === 1) });
    }),
  );

  let drops = 0;
  let kills = 0;
  let restarts = 0;
  let stopping = false;
  const dropper = setInterval(() => {
    if (drops >= o.drops) return;
    const peer = peers[randomInt(peers.length)]!;
    if (!peer.connected) return;
    peer.connected = false;
    // join{after}: no resume token, so the reconnect authenticates afresh and joins from its seq.
    if (peer.joinStyle) (peer.client as unknown as { resumeToken: string | null }).resumeToken = null;
    peer.client.dropConnection();
    drops++;
  }, o.dropEveryMs);

  const restartAt = o.redisRestarts.map((kind, i) => ({ kind, at: Math.floor(((i + 1) * o.drops) / (o.redisRestarts.length + 1)) }));
  const kill = async (why: string) => {
    const alive = cluster.nodes.filter((n) => n.child.alive);
    if (alive.length <= 1) return null;
    const victim = alive[randomInt(alive.length)]!;
    log(`chaos: SIGKILL ${victim.id} at ${drops} drops${why}`);
    victim.child.kill('SIGKILL');
    kills++;
    await victim.child.exited;
    return victim;
  };
  const chaos = (async () => {
    let killedAtEnd = false;
    let nextKill = o.killEveryMs[1] > 0 ? Date.now() + randomInt(o.killEveryMs[0], o.killEveryMs[1]) : Infinity;
    // Kills and restarts are at random, each on its own schedule: nothing keeps them apart.
    const restarting: Array<Promise<void>> = [];
    while (!stopping) {
      await sleep(100);
      const due = restartAt.find((r) => r.at <= drops);
      if (due) {
        restartAt.splice(restartAt.indexOf(due), 1);
        const lose = due.kind === 'lose';
        // Sometimes a node dies just before Redis loses its data: within one lease of it.
        const victim = lose && Math.random() < (o.killBeforeLose ?? 0.5) ? await kill(' (just before a data-losing restart)') : null;
        log(`chaos: Redis restart (${due.kind}) at ${drops} drops`);
        await cluster.redis.crash({ loseData: lose });
        await sleep(500);
        await cluster.redis.start();
        restarts++;
        if (victim) restarting.push(sleep(1_000).then(() => cluster.restart(victim.id).then(() => {}, (e: Error) => log(`chaos: restart of ${victim.id} failed: ${e.message}`))));
      }
      // Kills go on after the drops, while the senders' last runs end, and one more comes as the
      // drops end: a run whose node dies once no client sends again in its session is left to the
      // lost-run watcher (or the sweep of unended runs) alone.
      const windDown = o.killAtEnd === true && !killedAtEnd && drops >= o.drops;
      if (Date.now() >= nextKill || windDown) {
        if (windDown) killedAtEnd = true;
        const victim = await kill('');
        // Started again in the background: a restart of Redis may come meanwhile.
        if (victim) restarting.push(sleep(1_000).then(() => cluster.restart(victim.id).then(() => {}, (e: Error) => log(`chaos: restart of ${victim.id} failed: ${e.message}`))));
        nextKill = Date.now() + randomInt(o.killEveryMs[0], o.killEveryMs[1]);
      }
    }
    await Promise.all(restarting);
  })();

  let runsSent = 0;
  await Promise.all(
    sessions.map(async ({ id, sender }) => {
      while (drops < o.drops) {
        const ok = await eventually(() => sender.connected, 'connected', 20_000, 5).then(
          () => true,
          () => false,
        );
        if (!ok) continue;
        const run = sender.client.send({ sessionId: id, text: 'a long answer please', ifBusy: 'enqueue' });
        run.done.catch(() => {});
        const runId = await Promise.race([run.runId, sleep(20_000).then(() => null)]).catch(() => null);
        if (!runId) continue;
        runsSent++;
        const stream = `${sender.label}:${id}`;
        // A run whose log was lost may never show its done here (the transcript tells then).
        await eventually(() => audit.frames(stream).some((f) => f.type === 'done' && f.runId === runId), 'done', 30_000, 20).catch(() => {});
      }
    }),
  );
  clearInterval(dropper);
  // Every Redis restart happens, even one that waited for a kill to be far enough behind.
  await eventually(() => restartAt.length === 0, 'the Redis restarts', 60_000, 100);
  stopping = true;
  await chaos;
  for (const n of cluster.nodes) if (!n.child.alive) await cluster.restart(n.id).catch(() => {});

  // A run whose node was killed in the last moments ends once its lease lapses and another node's
  // lost-run watcher writes its done{node_lost}: wait for that before judging any run.
  for (const { id, sender, observer } of sessions) {
    const stream = `${sender.label}:${id}`;
    const ended = () => [undefined, 'done'].includes(audit.frames(stream).at(-1)?.type);
    await eventually(ended, `${stream} to see its last run end`, 30_000, 50).catch(async () =>
      log(`chaos: ${stream} did not see its last run end (sender ${sender.client.state}, observer ${observer.client.state}; ${await sessionState(cluster, id)})`),
    );
  }
  // Observers catch up with their senders (they may be mid-reconnect).
  for (const { id, sender, observer } of sessions) {
    const want = () => audit.frames(`${sender.label}:${id}`).at(-1)?.seq ?? 0;
    await eventually(() => (audit.frames(`${observer.label}:${id}`).at(-1)?.seq ?? 0) >= want(), `${observer.label} to catch up`, 15_000, 20).catch(() =>
      log(`chaos: ${observer.label} did not catch up`),
    );
  }
  await sleep(500);

  // The transcript against what the clients saw.
  let runsWithoutDone = 0;
  let transcriptMismatches = 0;
  let transcriptChecked = 0;
  for (const { id, token, sender, observer } of sessions) {
    // nginx answers 502 while the node it picked is still coming back: ask again.
    let page: { messages: Array<{ runId: string; role: string; content: string }> } = { messages: [] };
    await eventually(
      async () => {
        const res = await fetch(`${cluster.url}/v1/sessions/${id}/messages?limit=200`, { headers: { authorization: `Bearer ${token}` } }).catch(() => null);
        if (!res?.ok) return false;
        page = (await res.json()) as typeof page;
        return true;
      },
      `the history of ${id}`,
      15_000,
      200,
    );
    const answers = new Map<string, string>();
    for (const m of page.messages) if (m.role === 'assistant') answers.set(m.runId, m.content);
    for (const peer of [sender, observer]) {
      const frames = audit.frames(`${peer.label}:${id}`);
      const byRun = new Map<string, SessionFrame[]>();
      for (const f of frames) byRun.set(f.runId, [...(byRun.get(f.runId) ?? []), f]);
      for (const [runId, fs] of byRun) {
        const dones = fs.filter((f) => f.type === 'done').length;
        if (dones === 0 && !answers.has(runId)) {
          runsWithoutDone++;
          const logs = (await cluster.logs()).split('\n').filter((l) => l.includes(runId) || l.includes(id) || l.startsWith('---'));
          // What that client saw around the run: the frames after it and where its epochs began.
          const at = frames.indexOf(fs.at(-1)!);
          const after = frames.slice(at + 1, at + 9).map((f) => `${f.seq} ${f.type} ${f.runId.slice(0, 8)}`).join(', ');
          const starts = audit.epochStarts(`${peer.label}:${id}`).map((i) => `#${i} seq ${frames[i]?.seq ?? '-'}`).join(', ');
          log(`chaos: ${peer.label} run ${runId} (${fs[0]!.seq}..${fs.at(-1)!.seq}) has no done and no answer in the transcript; after it: [${after}]; epochs began at [${starts}] (run ends at #${at}); node log lines:\n${logs.join('\n').slice(-4000)}`);
          continue;
        }
        const whole = fs[0]?.type === 'user' && dones === 1 && fs.every((f, i) => i === 0 || f.seq === fs[i - 1]!.seq + 1);
        if (!whole) continue;
        const seen = fs.map((f) => (f.type === 'token' ? f.text : '')).join('');
        if (!seen) continue;
        transcriptChecked++;
        if (answers.get(runId) !== seen) {
          transcriptMismatches++;
          const stored = answers.get(runId) ?? '';
          let at = 0;
          while (at < seen.length && stored[at] === seen[at]) at++;
          const done = fs.at(-1) as SessionFrame & { reason?: string; error?: { code: string } };
          log(
            `chaos: ${peer.label} run ${runId} (${fs[0]!.seq}..${done.seq}, done ${done.reason}${done.error ? `/${done.error.code}` : ''}): ` +
              `transcript ${stored.length} chars vs seen ${seen.length}, first difference at ${at}: ${JSON.stringify(stored.slice(at, at + 30))} vs ${JSON.stringify(seen.slice(at, at + 30))}`,
          );
        }
      }
    }
  }
  const report = audit.report();
  // A run the audit found without exactly one done: what the nodes logged about it and its session.
  for (const p of report.problems.slice(0, 3)) {
    const m = /^[^:]+:([^:]+): run ([0-9a-f-]{36})/.exec(p);
    if (!m) continue;
    const [, sessionId, runId] = m as unknown as [string, string, string];
    const logs = (await cluster.logs()).split('\n').filter((l) => l.includes(runId) || l.includes(sessionId) || l.startsWith('---'));
    const stream = p.slice(0, p.indexOf(': run '));
    const frames = audit.frames(stream);
    const at = frames.findLastIndex((f) => f.runId === runId);
    const after = frames.slice(at + 1, at + 9).map((f) => `${f.seq} ${f.type} ${f.runId.slice(0, 8)}`).join(', ');
    const starts = audit.epochStarts(stream).map((i) => `#${i} seq ${frames[i]?.seq ?? '-'}`).join(', ');
    log(`chaos: ${p} (${await sessionState(cluster, sessionId)}); after it: [${after}]; epochs began at [${starts}] (run ends at #${at}); node log lines:\n${logs.join('\n').slice(-6000)}`);
  }
  return {
    ...report,
    clients: peers.length,
    nodes: cluster.nodes.length,
    drops,
    kills,
    redisRestarts: restarts,
    runsSent,
    runsWithoutDone,
    transcriptMismatches,
    transcriptChecked,
  };
}

/** One line of figures. */
export function describeChaos(r: ChaosReport): string {
  return (
    `clients ${r.clients}, nodes ${r.nodes}, forced disconnects ${r.drops}, node kills ${r.kills}, Redis restarts ${r.redisRestarts}, ` +
    `runs ${r.runsSent}, frames checked ${r.frames}, lost ${r.lost}, duplicated ${r.duplicated}, runs without exactly one done ${r.brokenRuns + r.runsWithoutDone}, ` +
    `runs cut by an epoch change ${r.cutRuns}, epoch changes seen ${r.epochChanges}, transcript mismatches ${r.transcriptMismatches} of ${r.transcriptChecked}`
  );
}

/** The session's run lease and last log entry in Redis, for a failure message. */
async function sessionState(cluster: Cluster, sessionId: string): Promise<string> {
  const redis = new Redis(cluster.redis.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  redis.on('error', () => {});
  try {
    await redis.connect();
    const [holder, ttl, seq, tail] = await Promise.all([
      redis.get(`sb:lock:{${sessionId}}`),
      redis.pttl(`sb:lock:{${sessionId}}`),
      redis.get(`sb:seq:{${sessionId}}`),
      redis.xrevrange(`sb:log:{${sessionId}}`, '+', '-', 'COUNT', 1),
    ]);
    return `lease ${holder ?? 'free'} (pttl ${ttl}), seq ${seq}, last entry ${JSON.stringify(tail[0] ?? null).slice(0, 200)}`;
  } catch (e) {
    return `Redis state unknown: ${(e as Error).message}`;
  } finally {
    redis.disconnect();
  }
}
