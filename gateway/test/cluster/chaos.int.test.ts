/**
 * Chaos: three nodes behind nginx on a private Redis, clients dropping sockets at random with both
 * resume styles, node SIGKILLs at random (one more as the drops end, so a run whose node dies when
 * nobody sends again is left to the lost-run watcher and the sweep of unended runs), and Redis
 * restarted three times, the second losing its data (half the time right after a node kill).
 * See chaos.ts for what is checked; `pnpm soak` runs the long version.
 */
import { startCluster, type Cluster } from './cluster-harness.js';
import { describeChaos, runChaos } from './chaos.js';
import { clusterPrerequisites } from './prerequisites.js';

const pre = await clusterPrerequisites();

describe.skipIf(!pre.available)(`chaos: drops, node kills, Redis restarts (one losing its data)${pre.available ? '' : ` (skipped: ${pre.reason})`}`, () => {
  let cluster: Cluster;
  beforeAll(async () => {
    cluster = await startCluster({ nodes: 3, env: { LOCAL_MODEL_TOKEN_DELAY_MS: '5', RUN_LOCK_TTL_MS: '3000', LOG_LEVEL: process.env.CLUSTER_LOG_LEVEL ?? 'warn' } });
  }, 180_000); // three nodes start slowly on a loaded machine
  afterAll(async () => cluster?.stop());

  it('loses, repeats and double-ends nothing; the transcript matches what clients saw', { timeout: 240_000 }, async () => {
    const lines: string[] = [];
    const redisRestarts: Array<'keep' | 'lose'> = ['keep', 'lose', 'keep'];
    const r = await runChaos(cluster, { sessions: 6, drops: 300, dropEveryMs: 60, killEveryMs: [6_000, 9_000], killAtEnd: true, redisRestarts, log: (l) => lines.push(l) });
    console.log(`chaos: ${describeChaos(r)}\n${lines.join('\n')}`);
    const detail = `${r.problems.join('\n')}\n${lines.join('\n')}`;
    expect(r, detail).toMatchObject({ lost: 0, duplicated: 0, brokenRuns: 0, runsWithoutDone: 0, transcriptMismatches: 0 });
    expect(r.drops).toBeGreaterThanOrEqual(300);
    expect(r.redisRestarts).toBe(redisRestarts.length);
  });
});
