/**
 * One eval run: picks the target and the judges, runs the suites, applies the gate and sends
 * the scores. The CLI and the vitest suites both call {@link runEvals}.
 */
import { readFileSync } from 'node:fs';
import { loadPrompt } from '@switchboard/agent-core';
import { createMockOpenAI, type MockOpenAI } from '@switchboard/mock-llm';
import { loadCases, type SuiteName } from './dataset.js';
import { EvalsError } from './errors.js';
import { applyGate, loadBaseline, loadThresholds } from './gate.js';
import { createModelJudge, createRecordedJudge, createRuleJudge, type Judge } from './judge/judge.js';
import { JUDGE_METRICS, promptVersion, type JudgeMetric } from './judge/metrics.js';
import { openRecordings } from './judge/recordings.js';
import { evalsPaths } from './paths.js';
import type { EvalResults, MetricResult } from './results.js';
import type { ScoreSink } from '@switchboard/gateway';
import { runCaseSuite } from './suites/cases.js';
import type { SuiteContext } from './suites/context.js';
import { runFramesSuite } from './suites/frames.js';
import { missingRecordings, runJudgedSuite } from './suites/judged.js';
import { runPromptSuite } from './suites/prompt.js';
import { runTrimmingSuite } from './suites/trimming.js';
import { runRoutingSuite } from './suites/routing.js';
import { withCanary } from './targets/inprocess.js';
import { createRemoteTarget } from './targets/socket.js';

/** How answers are judged. */
export type JudgeChoice =
  | { kind: 'offline' }
  | { kind: 'rules' }
  | { kind: 'model'; model: string; baseURL: string; apiKey: string; repetitions: number; record: boolean };

export interface RunEvalsOptions {
  /** @default every suite */
  suites?: SuiteName[];
  /** `inprocess` or a gateway's base URL. @default 'inprocess' */
  target?: string;
  /**
   * @default offline (recorded answers) in process; the rule judge through a gateway, whose
   * answers the recordings cannot know (`--judge offline` there fails on missing recordings)
   */
  judge?: JudgeChoice;
  /** A system prompt file to evaluate instead of agent-core's `prompts/system.md`. */
  systemPromptFile?: string;
  /** Only cases whose id contains this. */
  filter?: string;
  progress?: (line: string) => void;
  sink?: ScoreSink;
  /**
   * Hold time to first token to its budget. The vitest suites turn it off: tests assert no timing.
   * @default true
   */
  timeBudgets?: boolean;
  /** Use this judge for every answer (recording the offline judge through the mock). */
  judgeOverride?: Judge;
}

export const ALL_SUITES: SuiteName[] = ['tools', 'memory', 'injection', 'trimming', 'budgets', 'frames', 'prompt', 'judged', 'routing'];

function judges(choice: JudgeChoice, offlineModel: string): { judge: Judge; scripted: Judge; save?: () => void } {
  if (choice.kind === 'rules') return { judge: createRuleJudge(), scripted: createRuleJudge() };
  if (choice.kind === 'offline') {
    const store = openRecordings(evalsPaths.recordings);
    return { judge: createRecordedJudge({ model: offlineModel, store }), scripted: createRuleJudge() };
  }
  const { record, ...endpoint } = choice;
  const store = record ? openRecordings(evalsPaths.recordings) : undefined;
  const judge = createModelJudge({ ...endpoint, ...(store ? { record: { store, source: choice.model } } : {}) });
  return { judge, scripted: judge, ...(store ? { save: () => store.save() } : {}) };
}

async function runSuite(name: SuiteName, ctx: SuiteContext): Promise<MetricResult[]> {
  switch (name) {
    case 'trimming':
      return runTrimmingSuite(ctx);
    case 'frames':
      return runFramesSuite(ctx);
    case 'prompt':
      return runPromptSuite(ctx, evalsPaths.promptRules);
    case 'judged':
      return runJudgedSuite(ctx);
    case 'routing':
      return runRoutingSuite(ctx);
    default:
      return runCaseSuite(name, name, ctx);
  }
}

function judgePromptVersion(metric: string): string | undefined {
  const name = metric.split('.')[1];
  return (JUDGE_METRICS as string[]).includes(name) ? promptVersion(name as JudgeMetric) : undefined;
}

/** Sends every scored case outcome to the sink. */
function sendScores(sink: ScoreSink, results: EvalResults): void {
  for (const m of results.metrics) {
    for (const o of m.outcomes) {
      if (o.score === undefined || o.error !== undefined) continue;
      const metric = m.metric.split('@')[0];
      sink.score({
        ...(o.traceId ? { traceId: o.traceId } : {}),
        name: metric,
        value: o.score,
        ...(o.failures.length ? { comment: o.failures.map((f) => `${f.check}: ${f.detail}`).join('; ') } : {}),
        metadata: {
          caseId: o.caseId,
          model: o.model,
          target: results.target,
          judge: m.kind === 'judged' ? results.judge : undefined,
          promptVersion: m.kind === 'judged' ? judgePromptVersion(metric) : undefined,
          runAt: results.startedAt,
        },
      });
    }
  }
}

/**
 * Runs the evals and applies the gate.
 * @example
 * const results = await runEvals({ suites: ['tools'], judge: { kind: 'offline' } });
 * if (!results.pass) process.exitCode = 1;
 */
export async function runEvals(options: RunEvalsOptions = {}): Promise<EvalResults> {
  const started = performance.now();
  const startedAt = new Date().toISOString();
  const thresholds = loadThresholds(evalsPaths.thresholds);
  const target = options.target ?? 'inprocess';
  const choice: JudgeChoice = options.judge ?? (target === 'inprocess' ? { kind: 'offline' } : { kind: 'rules' });
  const template = options.systemPromptFile ? readFileSync(options.systemPromptFile, 'utf8') : loadPrompt('system');
  const cases = loadCases(evalsPaths.datasets).filter((c) => !options.filter || c.id.includes(options.filter));
  const suites = options.suites ?? ALL_SUITES;
  const picked = judges(choice, thresholds.offlineJudgeModel);
  const judge = options.judgeOverride ?? picked.judge;
  const scripted = picked.scripted; // the mock's scripted answers: the rule judge offline
  const save = picked.save;
  const remote = target === 'inprocess' ? undefined : createRemoteTarget(target);
  let mock: MockOpenAI | undefined;
  if (!remote) mock = await createMockOpenAI({ logLimit: 5000 });
  const progress = options.progress ?? (() => {});
  const ctx: SuiteContext = {
    cases,
    systemPrompt: withCanary(template),
    promptTemplate: template,
    ...(mock ? { mock } : {}),
    ...(remote ? { remote } : {}),
    budget: thresholds.budget,
    timeBudgets: options.timeBudgets ?? true,
    judge,
    scriptedJudge: scripted,
    progress,
  };
  missingRecordings.length = 0;
  const metrics: MetricResult[] = [];
  try {
    for (const suite of suites) metrics.push(...(await runSuite(suite, ctx)));
  } finally {
    remote?.close();
    await mock?.close();
  }
  save?.();
  const pass = applyGate(metrics, thresholds, loadBaseline(evalsPaths.baseline));
  const results: EvalResults = {
    startedAt,
    durationMs: Math.round(performance.now() - started),
    target,
    judge: suites.includes('judged') ? judge.label : 'none',
    systemPrompt: options.systemPromptFile ?? 'agent-core/prompts/system.md',
    metrics,
    pass: pass && missingRecordings.length === 0,
  };
  if (options.sink) {
    sendScores(options.sink, results);
    await options.sink.flush();
  }
  return results;
}

/** The loud message for missing recordings (empty when none are missing). */
export function missingRecordingsMessage(): string {
  if (missingRecordings.length === 0) return '';
  const list = missingRecordings.slice(0, 10).map((m) => `  - ${m.caseId} / ${m.metric} (key ${m.key})`);
  return [
    `${missingRecordings.length} judged item(s) have no recorded judge answer, so the offline judge cannot score them:`,
    ...list,
    'A dataset or prompt changed. Refresh the recordings: `pnpm evals record-judge` (offline, through the mock) or `pnpm evals --judge <model> --record` (a real judge).',
  ].join('\n');
}

export { EvalsError };
