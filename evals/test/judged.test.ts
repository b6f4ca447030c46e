/**
 * The judged metrics with the offline judge (recorded answers, replayed exactly) above their
 * thresholds, with no missing recording; and the calibration set fully recorded.
 */
import { expect } from 'vitest'; // openevals (via langsmith) swaps the global expect
import { calibrate } from '../src/calibrate.js';
import { loadThresholds } from '../src/gate.js';
import { createRecordedJudge } from '../src/judge/judge.js';
import { JUDGE_METRICS } from '../src/judge/metrics.js';
import { openRecordings } from '../src/judge/recordings.js';
import { evalsPaths } from '../src/paths.js';
import { failureLines } from '../src/report.js';
import { missingRecordingsMessage, runEvals } from '../src/run.js';

describe('judged evals (offline judge)', () => {
  it('scores every judged metric above its threshold from the recordings', async () => {
    const results = await runEvals({ suites: ['judged'], judge: { kind: 'offline' } });
    expect(missingRecordingsMessage()).toBe('');
    expect(failureLines(results, 1000).filter((l) => !l.startsWith('  '))).toEqual([]);
    const names = results.metrics.map((m) => m.metric);
    for (const metric of JUDGE_METRICS) expect(names).toContain(`judged.${metric}@local`);
    for (const m of results.metrics) expect(m.errors, m.metric).toBe(0);
    expect(results.pass).toBe(true);
  }, 120_000);

  it('has 30+ labelled calibration items per metric, all recorded', async () => {
    const judge = createRecordedJudge({ model: loadThresholds(evalsPaths.thresholds).offlineJudgeModel, store: openRecordings(evalsPaths.recordings) });
    const results = await calibrate(judge, evalsPaths.calibration);
    for (const r of results) {
      expect(r.items, r.metric).toBeGreaterThanOrEqual(30);
      expect(r.errors, `${r.metric}: ${r.disagreements.join('; ')}`).toBe(0);
    }
  }, 60_000);
});
