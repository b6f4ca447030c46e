/**
 * LLM-as-judge metrics on the agent's answers: each `judged` case runs, then its last answer is
 * judged on every metric that applies (hallucination against the tool outputs and the recalled
 * memories; correctness against the reference). The `local` model's and a gateway's answers go
 * to the configured judge; the mock's scripted answers to the rule judge.
 */
import type { EvalCase } from '../dataset.js';
import type { Judge } from '../judge/judge.js';
import { JUDGE_METRICS, metricApplies, type JudgeInput, type JudgeMetric } from '../judge/metrics.js';
import { metricFrom, type CaseOutcome, type MetricResult } from '../results.js';
import type { CaseRun } from '../run-record.js';
import { runCaseEverywhere } from './cases.js';
import type { SuiteContext } from './context.js';

/** What the judge sees of a run: the last user message, the answer, and its evidence. */
export function judgeInputOf(c: EvalCase, run: CaseRun): JudgeInput {
  const last = run.turns[run.turns.length - 1];
  const evidence = [
    ...last.tools.map((t) => `tool ${t.name}(${JSON.stringify(t.input ?? {})}) → ${t.output ?? `error: ${t.error ?? 'none'}`}`),
    ...(last.recalled ?? []).map((m) => `memory: ${m}`),
  ];
  const input: JudgeInput = { inputs: last.text, outputs: last.answer };
  if (evidence.length) input.context = evidence.join('\n');
  if (c.reference) input.reference = c.reference;
  return input;
}

/** Missing recordings seen in this process, for the loud failure at the end. */
export const missingRecordings: Array<{ caseId: string; metric: string; key: string }> = [];

async function judgeRun(c: EvalCase, run: CaseRun, judge: Judge, byMetric: Map<string, CaseOutcome[]>): Promise<void> {
  const input = judgeInputOf(c, run);
  const metrics = (c.metrics ?? JUDGE_METRICS).filter((m): m is JudgeMetric => metricApplies(m, input));
  for (const metric of metrics) {
    const key = `${metric}@${run.model}`;
    const outcome: CaseOutcome = { caseId: c.id, model: run.model, pass: false, failures: [] };
    if (run.failure) outcome.error = run.failure;
    else {
      const verdict = await judge.judge(metric, input);
      if (verdict.kind === 'score') {
        outcome.score = verdict.score;
        outcome.pass = verdict.score >= 0.5;
        if (!outcome.pass) outcome.failures.push({ check: metric, detail: verdict.reasoning.slice(0, 300) });
      } else if (verdict.kind === 'missing') {
        outcome.error = `no recorded ${judge.label} answer (key ${verdict.key})`;
        missingRecordings.push({ caseId: c.id, metric, key: verdict.key });
      } else outcome.error = verdict.error;
    }
    const traceId = run.turns.at(-1)?.traceId;
    if (traceId) outcome.traceId = traceId;
    byMetric.set(key, [...(byMetric.get(key) ?? []), outcome]);
  }
}

export async function runJudgedSuite(ctx: SuiteContext): Promise<MetricResult[]> {
  const byMetric = new Map<string, CaseOutcome[]>();
  for (const c of ctx.cases.filter((x) => x.suite === 'judged')) {
    for (const run of await runCaseEverywhere(c, ctx)) {
      await judgeRun(c, run, run.model === 'mock' ? ctx.scriptedJudge : ctx.judge, byMetric);
      ctx.progress(`judged ${c.id}@${run.model}`);
    }
  }
  return [...byMetric].map(([key, outcomes]) => {
    const [name, model] = key.split('@');
    return metricFrom({ suite: 'judged', name, model, kind: 'judged', outcomes });
  });
}
