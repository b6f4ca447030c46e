/** Where the package's files live, resolved from this module (works from any working directory). */
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

export const EVALS_ROOT = fileURLToPath(new URL('..', import.meta.url));

export const evalsPaths = {
  datasets: join(EVALS_ROOT, 'datasets'),
  calibration: join(EVALS_ROOT, 'calibration'),
  recordings: join(EVALS_ROOT, 'recordings', 'judge.jsonl'),
  thresholds: join(EVALS_ROOT, 'thresholds.json'),
  baseline: join(EVALS_ROOT, 'baseline.json'),
  promptRules: join(EVALS_ROOT, 'prompt-rules.json'),
  results: join(EVALS_ROOT, 'results'),
  scores: join(EVALS_ROOT, 'results', 'scores.jsonl'),
};
