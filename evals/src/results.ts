/** The shape of a results file (`evals/results/*.json`) and of one metric row. */
import { z } from 'zod';

export const CaseOutcome = z.object({
  caseId: z.string(),
  model: z.string(),
  pass: z.boolean(),
  /** Judged metrics: the score; deterministic: 1 or 0. */
  score: z.number().optional(),
  failures: z.array(z.object({ check: z.string(), detail: z.string() })),
  traceId: z.string().optional(),
  error: z.string().optional(),
});
export type CaseOutcome = z.infer<typeof CaseOutcome>;

export const MetricResult = z.object({
  /** `suite.metric@model`, e.g. `tools.trajectory@local`, `judged.correctness@local`. */
  metric: z.string(),
  suite: z.string(),
  model: z.string(),
  kind: z.enum(['deterministic', 'judged']),
  cases: z.number(),
  passed: z.number(),
  /** Judge errors and missing recordings: reported, never scored. */
  errors: z.number().default(0),
  score: z.number(),
  threshold: z.number().optional(),
  baseline: z.number().optional(),
  status: z.enum(['pass', 'fail', 'error']),
  reasons: z.array(z.string()).default([]),
  outcomes: z.array(CaseOutcome),
});
export type MetricResult = z.infer<typeof MetricResult>;

export const EvalResults = z.object({
  startedAt: z.string(),
  durationMs: z.number(),
  target: z.string(),
  judge: z.string(),
  systemPrompt: z.string(),
  metrics: z.array(MetricResult),
  pass: z.boolean(),
});
export type EvalResults = z.infer<typeof EvalResults>;

/** Builds a metric row from case outcomes (status and threshold are set by the gate). */
export function metricFrom(input: { suite: string; name: string; model: string; kind: 'deterministic' | 'judged'; outcomes: CaseOutcome[]; errors?: number }): MetricResult {
  const scored = input.outcomes.filter((o) => o.error === undefined);
  const passed = scored.filter((o) => o.pass).length;
  const score =
    input.kind === 'judged'
      ? scored.length
        ? scored.reduce((sum, o) => sum + (o.score ?? 0), 0) / scored.length
        : 0
      : scored.length
        ? passed / scored.length
        : 1;
  return {
    metric: `${input.suite}.${input.name}@${input.model}`,
    suite: input.suite,
    model: input.model,
    kind: input.kind,
    cases: input.outcomes.length,
    passed,
    errors: input.errors ?? input.outcomes.length - scored.length,
    score,
    status: 'pass',
    reasons: [],
    outcomes: input.outcomes,
  };
}
