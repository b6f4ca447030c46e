/**
 * The system prompt under test: the rules in `evals/prompt-rules.json` on its template, and (on
 * the mock) that the agent really sends it, rendered, as the first message.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import type { EvalCase } from '../dataset.js';
import { metricFrom, type CaseOutcome, type MetricResult } from '../results.js';
import { runInProcess } from '../targets/inprocess.js';
import type { SuiteContext } from './context.js';

const Rule = z
  .object({
    id: z.string(),
    description: z.string(),
    require: z.string().optional(),
    forbid: z.string().optional(),
    requireBeforeMemories: z.string().optional(),
  })
  .strict();
export const PromptRules = z.object({ description: z.string(), rules: z.array(Rule).min(1) }).strict();
export type PromptRule = z.infer<typeof Rule>;

export function loadPromptRules(file: string): PromptRule[] {
  return PromptRules.parse(JSON.parse(readFileSync(file, 'utf8'))).rules;
}

/** The template line just before `{{memories}}` (the one that frames them). */
function lineBeforeMemories(template: string): string {
  const at = template.search(/\{\{\s*memories\s*\}\}/);
  if (at < 0) return '';
  return template.slice(0, at).trimEnd().split('\n').pop() ?? '';
}

/** Checks one rule against a template; undefined when it holds. */
export function ruleProblem(rule: PromptRule, template: string): string | undefined {
  if (rule.require && !new RegExp(rule.require, 'i').test(template)) return `missing: ${rule.description}`;
  if (rule.forbid) {
    const hit = new RegExp(rule.forbid, 'i').exec(template);
    if (hit) return `forbidden: ${rule.description} (found "${hit[0]}")`;
  }
  if (rule.requireBeforeMemories && !new RegExp(rule.requireBeforeMemories, 'i').test(lineBeforeMemories(template))) {
    return `missing: ${rule.description}`;
  }
  return undefined;
}

const SENT_CASE: EvalCase = {
  id: 'prompt-sent',
  suite: 'prompt',
  tags: [],
  turns: [{ text: 'Hello!', session: 's1', user: 'alice', mock: { text: 'Hi!' } }],
  seedMemories: [],
  expect: { match: 'strict', args: {}, answerIncludes: [], forbiddenTools: [], forbiddenText: [], reason: 'stop' },
  models: ['mock'],
  cancelAfterFirstToken: false,
};

export async function runPromptSuite(ctx: SuiteContext, rulesFile: string): Promise<MetricResult[]> {
  if (ctx.remote) return []; // a remote gateway's prompt is its own
  const outcomes: CaseOutcome[] = loadPromptRules(rulesFile).map((rule) => {
    const problem = ruleProblem(rule, ctx.promptTemplate);
    return { caseId: rule.id, model: 'template', pass: !problem, score: problem ? 0 : 1, failures: problem ? [{ check: 'rule', detail: problem }] : [] };
  });
  const metrics = [metricFrom({ suite: 'prompt', name: 'rules', model: 'template', kind: 'deterministic', outcomes })];
  ctx.progress('prompt rules');
  if (ctx.mock) {
    const run = await runInProcess(SENT_CASE, 'mock', { systemPrompt: ctx.systemPrompt, mock: ctx.mock });
    const sent = String(run.turns[0]?.requests?.[0]?.messages[0]?.content ?? '');
    const missing = ctx.promptTemplate
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line !== '' && !line.includes('{{'))
      .filter((line) => !sent.includes(line));
    const pass = missing.length === 0 && run.turns[0]?.requests?.[0]?.messages[0]?.role === 'system';
    metrics.push(
      metricFrom({
        suite: 'prompt',
        name: 'sent',
        model: 'mock',
        kind: 'deterministic',
        outcomes: [{ caseId: 'prompt-sent', model: 'mock', pass, score: pass ? 1 : 0, failures: pass ? [] : [{ check: 'sent', detail: `the first request lacks ${missing.length} prompt lines, e.g. ${JSON.stringify(missing[0] ?? '(no system message)')}` }] }],
      }),
    );
  }
  return metrics;
}
