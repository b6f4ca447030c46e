/**
 * The routing case set: which tier the gateway's rules-first router sends each turn to, and by
 * which rule (`evals/routing/cases.json`). Deterministic: no model is called. The progress line
 * lists where the turns went.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRouter } from '@switchboard/gateway';
import { z } from 'zod';
import { EVALS_ROOT } from '../paths.js';
import { metricFrom, type CaseOutcome, type MetricResult } from '../results.js';
import type { SuiteContext } from './context.js';

const RoutingCases = z.object({
  router: z.object({ clientTiers: z.array(z.string()), fastMaxChars: z.number().int(), fastMaxDepth: z.number().int() }),
  cases: z.array(
    z.object({
      id: z.string(),
      text: z.string().min(1),
      depth: z.number().int().nonnegative().optional(),
      hint: z.string().optional(),
      tier: z.string(),
      rule: z.string(),
    }),
  ),
});

export const ROUTING_CASES_FILE = join(EVALS_ROOT, 'routing', 'cases.json');

/** Routes every case and compares tier and rule with the expected ones. */
export async function routingOutcomes(file = ROUTING_CASES_FILE, filter?: string): Promise<{ outcomes: CaseOutcome[]; where: Record<string, string[]> }> {
  const set = RoutingCases.parse(JSON.parse(readFileSync(file, 'utf8')));
  const router = createRouter(set.router);
  const outcomes: CaseOutcome[] = [];
  const where: Record<string, string[]> = {};
  for (const c of set.cases) {
    if (filter && !c.id.includes(filter)) continue;
    const got = await router.route({ text: c.text, depth: c.depth ?? 0, hint: c.hint });
    (where[got.tier] ??= []).push(c.id);
    const failures = [];
    if (got.tier !== c.tier) failures.push({ check: 'tier', detail: `expected ${c.tier}, routed to ${got.tier} (${got.rule})` });
    else if (got.rule !== c.rule) failures.push({ check: 'rule', detail: `expected rule ${c.rule}, decided by ${got.rule}` });
    outcomes.push({ caseId: `routing-${c.id}`, model: 'router', pass: failures.length === 0, score: failures.length ? 0 : 1, failures });
  }
  return { outcomes, where };
}

export async function runRoutingSuite(ctx: SuiteContext, filter?: string): Promise<MetricResult[]> {
  const { outcomes, where } = await routingOutcomes(ROUTING_CASES_FILE, filter);
  ctx.progress(`routing: ${Object.entries(where).map(([tier, ids]) => `${tier} ← ${ids.length} (${ids.join(', ')})`).join('; ')}`);
  return [metricFrom({ suite: 'routing', name: 'tier', model: 'router', kind: 'deterministic', outcomes })];
}
