/**
 * The case-based deterministic suites (tools, memory, injection, budgets, trimming): every case
 * on every model it lists, in process, or once through a gateway; scored pass/fail by its checks.
 */
import { checkRun } from '../checks.js';
import type { EvalCase, SuiteName } from '../dataset.js';
import { metricFrom, type CaseOutcome, type MetricResult } from '../results.js';
import type { CaseRun } from '../run-record.js';
import { runInProcess } from '../targets/inprocess.js';
import type { SuiteContext } from './context.js';

/** Why a case cannot run through a gateway (it needs eval-only tools), or undefined. */
export function remoteSkipReason(c: EvalCase): string | undefined {
  if (c.pageContent !== undefined) return 'needs the eval-only fetch_page tool';
  if (c.contextTokens !== undefined) return 'needs its own context budget';
  return undefined;
}

/** Runs one case everywhere it belongs; returns each run with the model it ran on. */
export async function runCaseEverywhere(c: EvalCase, ctx: SuiteContext): Promise<CaseRun[]> {
  if (ctx.remote) return remoteSkipReason(c) ? [] : [await ctx.remote.runCase(c)];
  const runs: CaseRun[] = [];
  for (const model of c.models) {
    if (model === 'mock' && !ctx.mock) continue;
    try {
      runs.push(await runInProcess(c, model, { systemPrompt: ctx.systemPrompt, mock: ctx.mock, maxContextTokens: c.contextTokens }));
    } catch (error) {
      runs.push({ caseId: c.id, model, turns: [], failure: `the run threw: ${(error as Error).message}` });
    }
  }
  return runs;
}

/** Runs the cases of one suite and returns one metric per model. */
export async function runCaseSuite(suite: SuiteName, name: string, ctx: SuiteContext): Promise<MetricResult[]> {
  const byModel = new Map<string, CaseOutcome[]>();
  for (const c of ctx.cases.filter((x) => x.suite === suite)) {
    for (const run of await runCaseEverywhere(c, ctx)) {
      const checks = await checkRun(c, run, { budget: ctx.budget, timeBudgets: ctx.timeBudgets });
      const failures = checks.filter((r) => !r.pass).map(({ check, detail }) => ({ check, detail }));
      const outcome: CaseOutcome = { caseId: c.id, model: run.model, pass: failures.length === 0, score: failures.length === 0 ? 1 : 0, failures };
      const traceId = run.turns.at(-1)?.traceId;
      if (traceId) outcome.traceId = traceId;
      byModel.set(run.model, [...(byModel.get(run.model) ?? []), outcome]);
      ctx.progress(`${suite} ${c.id}@${run.model} ${outcome.pass ? 'ok' : 'FAIL'}`);
    }
  }
  return [...byModel].map(([model, outcomes]) => metricFrom({ suite, name, model, kind: 'deterministic', outcomes }));
}
