/**
 * The deterministic evals inside the test command: every suite on the offline `local` model,
 * on the mock OpenAI server scripted per case, and through a real gateway in process; all at 100%.
 * Time to first token is measured but not held to its budget here (tests assert no timing;
 * `pnpm evals` does).
 */
import { expect } from 'vitest'; // openevals (via langsmith) swaps the global expect
import { failureLines } from '../src/report.js';
import { runEvals } from '../src/run.js';
import type { EvalResults } from '../src/results.js';

let results: EvalResults;
beforeAll(async () => {
  results = await runEvals({ suites: ['tools', 'memory', 'injection', 'trimming', 'budgets', 'frames', 'prompt'], judge: { kind: 'rules' }, timeBudgets: false });
}, 240_000);

describe('deterministic evals', () => {
  it('covers every suite on every model', () => {
    const names = results.metrics.map((m) => m.metric);
    for (const expected of [
      'tools.tools@local',
      'tools.tools@mock',
      'memory.memory@local',
      'memory.memory@mock',
      'injection.injection@local',
      'injection.injection@mock',
      'trimming.function@agent-core',
      'trimming.requests@mock',
      'budgets.budgets@local',
      'budgets.budgets@mock',
      'frames.grammar@gateway+mock',
      'prompt.rules@template',
      'prompt.sent@mock',
    ]) {
      expect(names).toContain(expected);
    }
  });

  it('passes every case of every deterministic metric', () => {
    expect(failureLines(results, 1000)).toEqual([]);
    for (const m of results.metrics) expect(m.score, m.metric).toBe(1);
    expect(results.pass).toBe(true);
  });
});
