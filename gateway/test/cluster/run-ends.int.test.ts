/**
 * A node dies within a lease of a data-losing Redis restart, with no other node following the
 * session: the new log does not name the run, its node is gone and no watcher saw it open. The
 * durable record of run ends (Postgres) still knows the run was acked and never ended, so a
 * surviving node's sweep writes its one `done{error:node_lost}` into the new epoch, where the
 * client, resuming later, sees it; the run's record is completed and the run counts as ended.
 */
import pg from 'pg';
import { startCluster, type Cluster } from './cluster-harness.js';
import { joinAudited } from './frame-audit.js';
import { clusterPrerequisites } from './prerequisites.js';
import { eventually, sleep } from './processes.js';

const pre = await clusterPrerequisites();

describe.skipIf(!pre.available)(`a run whose node died as Redis lost its data${pre.available ? '' : ` (skipped: ${pre.reason})`}`, () => {
  let cluster: Cluster;
  let db: pg.Client;
  beforeAll(async () => {
    cluster = await startCluster({ nodes: 2, env: { LOCAL_MODEL_TOKEN_DELAY_MS: '20', RUN_LOCK_TTL_MS: '3000', LOG_LEVEL: process.env.CLUSTER_LOG_LEVEL ?? 'warn' } });
    db = new pg.Client({ connectionString: cluster.database.url });
    await db.connect();
  });
  afterAll(async () => {
    await db?.end().catch(() => {});
    await cluster?.stop();
  });

  it('gets exactly one done, from the sweep of the survivor, with nobody following the session', { timeout: 120_000 }, async () => {
    const u = await cluster.user();
    const sessionId = await cluster.session(u.token);
    const [n1] = cluster.nodes;
    // Straight to n1, not through nginx: while n1 is down the client cannot follow the session anywhere.
    const client = cluster.client(u.token, { url: n1!.wsUrl, reconnectBaseMs: 100, reconnectMaxMs: 500, maxReconnectAttempts: 10_000 });
    const { audit, readies } = await joinAudited(client, sessionId);
    const stream = `c:${sessionId}`;
    const run = client.send({ sessionId, text: 'a long answer please' });
    run.done.catch(() => {});
    const runId = await run.runId;
    await eventually(() => audit.frames(stream).filter((f) => f.type === 'token').length >= 20, 'the run to be under way');
    expect(readies.at(-1)!.node).toBe('n1');

    // The run's node dies, and within the same lease Redis restarts without its data.
    n1!.child.kill('SIGKILL');
    await n1!.child.exited;
    await cluster.redis.crash({ loseData: true });
    await sleep(300);
    await cluster.redis.start();

    const open = async () => (await db.query<{ run_open: boolean | null }>('SELECT run_open FROM messages WHERE run_id = $1 AND role = $2', [runId, 'user'])).rows[0]?.run_open;
    await eventually(async () => (await open()) === false, `the run to be ended by the survivor:\n${await cluster.logs()}`, 40_000, 200);

    // The client comes back (n1 restarted) and resumes into the new epoch: it sees the done there.
    await cluster.restart('n1');
    await eventually(() => audit.frames(stream).some((f) => f.type === 'done' && f.runId === runId), 'the client to see the done', 30_000);
    await sleep(4_000); // more sweeps and watcher rounds on both nodes: still one done
    const dones = audit.frames(stream).filter((f) => f.type === 'done' && f.runId === runId);
    expect(dones).toHaveLength(1);
    expect(dones[0]).toMatchObject({ reason: 'error', error: { code: 'node_lost' } });
    expect(audit.report()).toMatchObject({ lost: 0, duplicated: 0 });
    const { rows } = await db.query<{ role: string; content: string }>('SELECT role, content FROM messages WHERE run_id = $1 ORDER BY n', [runId]);
    expect(rows).toEqual([{ role: 'user', content: 'a long answer please' }]);
  });
});
