/**
 * Chaos in CI (short): three nodes behind nginx on a private Redis, clients dropping sockets at
 * random with both resume styles, node SIGKILLs, Redis restarted twice keeping its data. See
 * chaos.ts for what is checked; `pnpm soak` runs the long version, with Redis also losing its data.
 * The data-losing restart is not in CI yet: a run fenced out by it when nobody sends in its session
 * again can be left without a `done` (a known defect: the new epoch's log holds none of its frames,
 * so no reaper finds it).
 */
import { startCluster, type Cluster } from './cluster-harness.js';
import { describeChaos, runChaos } from './chaos.js';
import { clusterPrerequisites } from './prerequisites.js';

const pre = await clusterPrerequisites();

// Opt-in (CHAOS=1) until the known exactly-once defects are fixed: it still fails now and then on
// them (a run left without its done, or a run seen only as its done after a Redis restart).
const enabled = pre.available && process.env.CHAOS === '1';
const skipped = pre.available ? 'set CHAOS=1; it still finds the known exactly-once defects' : pre.reason;

describe.skipIf(!enabled)(`chaos: drops, node kills, Redis restarts${enabled ? '' : ` (skipped: ${skipped})`}`, () => {
  let cluster: Cluster;
  beforeAll(async () => {
    cluster = await startCluster({ nodes: 3, env: { LOCAL_MODEL_TOKEN_DELAY_MS: '5', RUN_LOCK_TTL_MS: '3000' } });
  });
  afterAll(async () => cluster?.stop());

  it('loses, repeats and double-ends nothing; the transcript matches what clients saw', { timeout: 240_000 }, async () => {
    const lines: string[] = [];
    const r = await runChaos(cluster, { sessions: 6, drops: 300, dropEveryMs: 60, killEveryMs: [6_000, 9_000], redisRestarts: ['keep', 'keep'], log: (l) => lines.push(l) });
    console.log(`chaos: ${describeChaos(r)}\n${lines.join('\n')}`);
    const detail = `${r.problems.join('\n')}\n${lines.join('\n')}`;
    expect(r, detail).toMatchObject({ lost: 0, duplicated: 0, brokenRuns: 0, runsWithoutDone: 0, transcriptMismatches: 0 });
    expect(r.drops).toBeGreaterThanOrEqual(300);
    expect(r.redisRestarts).toBe(2);
  });
});
