/**
 * Calibration: hand-labelled items per judged metric (`evals/calibration/<metric>.jsonl`, label
 * 1 = good, 0 = bad) and the judge's agreement with them (and Cohen's kappa), so a judge is only
 * trusted as far as it agrees with people.
 */
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { parseJsonl } from './dataset.js';
import type { Judge } from './judge/judge.js';
import { JUDGE_METRICS, type JudgeInput, type JudgeMetric } from './judge/metrics.js';

export const CalibrationItem = z
  .object({
    id: z.string(),
    inputs: z.string(),
    outputs: z.string(),
    context: z.string().optional(),
    reference: z.string().optional(),
    /** 1: a person judged the output good on this metric; 0: bad. */
    label: z.union([z.literal(0), z.literal(1)]),
    note: z.string().optional(),
  })
  .strict();
export type CalibrationItem = z.infer<typeof CalibrationItem>;

export interface CalibrationResult {
  metric: JudgeMetric;
  items: number;
  scored: number;
  errors: number;
  agreement: number;
  kappa: number;
  disagreements: string[];
}

export function loadCalibration(dir: string, metric: JudgeMetric): CalibrationItem[] {
  const file = join(dir, `${metric}.jsonl`);
  return existsSync(file) ? parseJsonl(readFileSync(file, 'utf8'), CalibrationItem, `${metric}.jsonl`) : [];
}

export function toJudgeInput(item: CalibrationItem): JudgeInput {
  return {
    inputs: item.inputs,
    outputs: item.outputs,
    ...(item.context ? { context: item.context } : {}),
    ...(item.reference ? { reference: item.reference } : {}),
  };
}

/** Cohen's kappa of two binary label lists. */
export function cohensKappa(a: number[], b: number[]): number {
  const n = a.length;
  if (n === 0) return 0;
  const observed = a.filter((x, i) => x === b[i]).length / n;
  const pa = a.filter((x) => x === 1).length / n;
  const pb = b.filter((x) => x === 1).length / n;
  const expected = pa * pb + (1 - pa) * (1 - pb);
  return expected === 1 ? 1 : (observed - expected) / (1 - expected);
}

/** Judges every calibration item of every metric; a score of 0.5 or more counts as "good". */
export async function calibrate(judge: Judge, dir: string, progress: (line: string) => void = () => {}): Promise<CalibrationResult[]> {
  const results: CalibrationResult[] = [];
  for (const metric of JUDGE_METRICS) {
    const items = loadCalibration(dir, metric);
    const labels: number[] = [];
    const predicted: number[] = [];
    const disagreements: string[] = [];
    let errors = 0;
    for (const item of items) {
      const outcome = await judge.judge(metric, toJudgeInput(item));
      if (outcome.kind !== 'score') {
        errors += 1;
        disagreements.push(`${item.id}: ${outcome.kind === 'missing' ? `no recording (${outcome.key})` : outcome.error}`);
        continue;
      }
      const guess = outcome.score >= 0.5 ? 1 : 0;
      labels.push(item.label);
      predicted.push(guess);
      if (guess !== item.label) disagreements.push(`${item.id}: labelled ${item.label}, judged ${outcome.score.toFixed(2)}`);
    }
    progress(`calibrate ${metric}`);
    const agree = labels.filter((x, i) => x === predicted[i]).length;
    results.push({ metric, items: items.length, scored: labels.length, errors, agreement: labels.length ? agree / labels.length : 0, kappa: cohensKappa(labels, predicted), disagreements });
  }
  return results;
}
