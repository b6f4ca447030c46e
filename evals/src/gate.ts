/**
 * The gate: thresholds per metric (`evals/thresholds.json`) and the committed baseline
 * (`evals/baseline.json`). A metric fails below its threshold, more than `maxDrop` below its
 * baseline, or with any judge error.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { z } from 'zod';
import type { MetricResult } from './results.js';

export const Thresholds = z
  .object({
    description: z.string().optional(),
    deterministic: z.number().min(0).max(1),
    judged: z.record(z.string(), z.number().min(0).max(1)),
    /** Exact metric overrides, e.g. `"judged.relevancy@gateway": 0.6`. */
    metrics: z.record(z.string(), z.number().min(0).max(1)).default({}),
    maxDrop: z.number().min(0).max(1),
    budget: z.object({ maxToolRounds: z.number().int(), maxTokens: z.number().int(), maxTtftMs: z.number().int() }).strict(),
    offlineJudgeModel: z.string(),
    calibration: z.object({ minAgreement: z.number().min(0).max(1) }).strict(),
  })
  .strict();
export type Thresholds = z.infer<typeof Thresholds>;

export const Baseline = z.object({ description: z.string().optional(), metrics: z.record(z.string(), z.number()) }).strict();
export type Baseline = z.infer<typeof Baseline>;

export function loadThresholds(file: string): Thresholds {
  return Thresholds.parse(JSON.parse(readFileSync(file, 'utf8')));
}

export function loadBaseline(file: string): Baseline {
  if (!existsSync(file)) return { metrics: {} };
  return Baseline.parse(JSON.parse(readFileSync(file, 'utf8')));
}

/** The minimum a metric must reach. */
export function thresholdOf(metric: MetricResult, thresholds: Thresholds): number {
  const exact = thresholds.metrics[metric.metric];
  if (exact !== undefined) return exact;
  if (metric.kind === 'deterministic') return thresholds.deterministic;
  return thresholds.judged[metric.metric.split('@')[0].split('.')[1]] ?? 1;
}

/** Sets threshold, baseline, status and reasons on each metric; returns whether all pass. */
export function applyGate(metrics: MetricResult[], thresholds: Thresholds, baseline: Baseline): boolean {
  for (const m of metrics) {
    m.threshold = thresholdOf(m, thresholds);
    const base = baseline.metrics[m.metric];
    if (base !== undefined) m.baseline = base;
    m.reasons = [];
    const eps = 1e-9;
    if (m.errors > 0) m.reasons.push(`${m.errors} judge error(s) or missing recording(s): not scored`);
    if (m.cases > 0 && m.errors === m.cases) {
      m.status = 'error'; // nothing was scored: no score to compare
      continue;
    }
    if (m.score + eps < m.threshold) m.reasons.push(`score ${m.score.toFixed(3)} < threshold ${m.threshold}`);
    if (base !== undefined && m.score + eps < base - thresholds.maxDrop) m.reasons.push(`score ${m.score.toFixed(3)} dropped more than ${thresholds.maxDrop} below baseline ${base.toFixed(3)}`);
    m.status = m.reasons.length ? 'fail' : 'pass';
  }
  return metrics.every((m) => m.status === 'pass');
}

/** Writes the scores of a passing run as the new baseline. */
export function writeBaseline(file: string, metrics: MetricResult[]): void {
  const body: Baseline = {
    description: 'Scores of the last accepted offline run (`pnpm evals --update-baseline`); the gate fails on a drop of more than maxDrop below these.',
    metrics: Object.fromEntries(metrics.map((m) => [m.metric, Math.round(m.score * 10_000) / 10_000]).sort(([a], [b]) => String(a).localeCompare(String(b)))),
  };
  writeFileSync(file, JSON.stringify(body, null, 2) + '\n');
}
