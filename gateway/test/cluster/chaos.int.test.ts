/**
 * Chaos (short, opt-in with CHAOS=1): three nodes behind nginx on a private Redis, clients dropping sockets at
 * random with both resume styles, node SIGKILLs (one more as the drops end, so a run whose node
 * dies when nobody sends again is left to the lost-run watcher), Redis restarted three times, the
 * second losing its data. See chaos.ts for what is checked; `pnpm soak` runs the long version.
 */
import { startCluster, type Cluster } from './cluster-harness.js';
import { describeChaos, runChaos } from './chaos.js';
import { clusterPrerequisites } from './prerequisites.js';

const pre = await clusterPrerequisites();

// Opt-in (CHAOS=1): under load it still fails about 2 runs in 5 on an exactly-once defect that is
// open (a run whose end one socket never sees after a data-losing restart; README "Exactly once").
const enabled = pre.available && process.env.CHAOS === '1';
const skipped = pre.available ? 'set CHAOS=1; it still finds open exactly-once defects' : pre.reason;

describe.skipIf(!enabled)(`chaos: drops, node kills, Redis restarts${enabled ? '' : ` (skipped: ${skipped})`}`, () => {
  let cluster: Cluster;
  beforeAll(async () => {
    cluster = await startCluster({ nodes: 3, env: { LOCAL_MODEL_TOKEN_DELAY_MS: '5', RUN_LOCK_TTL_MS: '3000', LOG_LEVEL: process.env.CLUSTER_LOG_LEVEL ?? 'warn' } });
  });
  afterAll(async () => cluster?.stop());

  it('loses, repeats and double-ends nothing; the transcript matches what clients saw', { timeout: 240_000 }, async () => {
    const lines: string[] = [];
    const r = await runChaos(cluster, { sessions: 6, drops: 300, dropEveryMs: 60, killEveryMs: [6_000, 9_000], killAtEnd: true, redisRestarts: ['keep', 'lose', 'keep'], log: (l) => lines.push(l) });
    console.log(`chaos: ${describeChaos(r)}\n${lines.join('\n')}`);
    const detail = `${r.problems.join('\n')}\n${lines.join('\n')}`;
    expect(r, detail).toMatchObject({ lost: 0, duplicated: 0, brokenRuns: 0, runsWithoutDone: 0, transcriptMismatches: 0 });
    expect(r.drops).toBeGreaterThanOrEqual(300);
    expect(r.redisRestarts).toBe(3);
  });
});
