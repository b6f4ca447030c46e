/**
 * `pnpm soak`: the long chaos run (minutes; not in CI). At least 10,000 forced disconnects by
 * default (SOAK_DROPS), node kills every 10-20 s and one as the drops end, Redis restarted twice
 * keeping its data and twice losing it. Prints the figures; exits 1 on any lost, duplicated or
 * unended run or transcript mismatch.
 */
import { startCluster } from './cluster-harness.js';
import { describeChaos, runChaos } from './chaos.js';
import { clusterPrerequisites } from './prerequisites.js';

const pre = await clusterPrerequisites();
if (!pre.available) {
  console.error(`soak cannot run: ${pre.reason}`);
  process.exit(2);
}
const drops = Number(process.env.SOAK_DROPS ?? 10_000);
const cluster = await startCluster({ nodes: 3, env: { LOCAL_MODEL_TOKEN_DELAY_MS: '5', RUN_LOCK_TTL_MS: '3000' } });
let failed = true;
try {
  const started = Date.now();
  const r = await runChaos(cluster, {
    sessions: Number(process.env.SOAK_SESSIONS ?? 12),
    drops,
    dropEveryMs: Number(process.env.SOAK_DROP_EVERY_MS ?? 12),
    killEveryMs: [10_000, 20_000],
    killAtEnd: true,
    redisRestarts: ['keep', 'lose', 'keep', 'lose'],
    log: (l) => console.log(l),
  });
  console.log(`soak (${Math.round((Date.now() - started) / 1000)} s): ${describeChaos(r)}`);
  if (r.problems.length) console.log(r.problems.join('\n'));
  failed = r.lost + r.duplicated + r.brokenRuns + r.runsWithoutDone + r.transcriptMismatches > 0;
} finally {
  await cluster.stop();
}
process.exit(failed ? 1 : 0);
