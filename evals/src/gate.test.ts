/** The gate (thresholds, baseline drops, judge errors) and the side-by-side report. */
import { applyGate, type Thresholds } from './gate.js';
import { compareResults } from './report.js';
import { metricFrom, type EvalResults, type MetricResult } from './results.js';

const thresholds: Thresholds = {
  deterministic: 1,
  judged: { correctness: 0.8 },
  metrics: {},
  maxDrop: 0.02,
  budget: { maxToolRounds: 3, maxTokens: 6000, maxTtftMs: 5000 },
  offlineJudgeModel: 'mock-judge',
  calibration: { minAgreement: 0.7 },
};

function judged(scores: Array<number | 'error'>): MetricResult {
  return metricFrom({
    suite: 'judged',
    name: 'correctness',
    model: 'local',
    kind: 'judged',
    outcomes: scores.map((s, i) => (s === 'error' ? { caseId: `c${i}`, model: 'local', pass: false, failures: [], error: 'judge request failed' } : { caseId: `c${i}`, model: 'local', pass: s >= 0.5, score: s, failures: [] })),
  });
}

describe('applyGate', () => {
  it('passes a deterministic metric only at 100% and names why it fails', () => {
    const m = metricFrom({ suite: 'tools', name: 'tools', model: 'local', kind: 'deterministic', outcomes: [{ caseId: 'a', model: 'local', pass: true, failures: [] }, { caseId: 'b', model: 'local', pass: false, failures: [{ check: 'trajectory', detail: 'x' }] }] });
    expect(applyGate([m], thresholds, { metrics: {} })).toBe(false);
    expect(m.status).toBe('fail');
    expect(m.reasons[0]).toMatch(/0\.500 < threshold 1/);
  });

  it('fails a drop of more than 0.02 below the baseline even above the threshold', () => {
    const small = judged([0.9, 0.88]);
    expect(applyGate([small], thresholds, { metrics: { 'judged.correctness@local': 0.9 } })).toBe(true);
    const big = judged([0.9, 0.8]);
    expect(applyGate([big], thresholds, { metrics: { 'judged.correctness@local': 0.9 } })).toBe(false);
    expect(big.reasons.join()).toMatch(/dropped more than 0.02 below baseline 0.900/);
  });

  it('reports a judge error, never scores it, and fails the gate', () => {
    const m = judged([1, 'error']);
    expect(m.score).toBe(1); // the error is not counted as 0 or 1
    expect(m.errors).toBe(1);
    expect(applyGate([m], thresholds, { metrics: {} })).toBe(false);
    expect(m.reasons[0]).toMatch(/1 judge error/);
    const all = judged(['error']);
    applyGate([all], thresholds, { metrics: {} });
    expect(all.status).toBe('error');
  });
});

describe('compareResults', () => {
  const results = (metrics: MetricResult[]): EvalResults => ({ startedAt: 't', durationMs: 1, target: 'inprocess', judge: 'rules', systemPrompt: 'p', metrics, pass: true });
  it('puts two runs side by side and flags regressions beyond maxDrop', () => {
    const a = results([judged([0.9]), metricFrom({ suite: 'tools', name: 'tools', model: 'local', kind: 'deterministic', outcomes: [] })]);
    const b = results([judged([0.7])]);
    const { text, regressions } = compareResults(a, b, 0.02);
    expect(regressions).toEqual(['judged.correctness@local']);
    expect(text).toMatch(/judged\.correctness@local\s+0\.900\s+0\.700\s+-0\.200\s+REGRESSION/);
    expect(text).toMatch(/tools\.tools@local\s+1\.000\s+-\s+only in A/);
  });
});
