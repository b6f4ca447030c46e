/** What every suite gets: the cases, the prompt under test, the target and progress reporting. */
import type { MockOpenAI } from '@switchboard/mock-llm';
import type { DefaultBudget } from '../checks.js';
import type { EvalCase } from '../dataset.js';
import type { Judge } from '../judge/judge.js';
import type { MetricResult } from '../results.js';
import type { RemoteTarget } from '../targets/socket.js';

export interface SuiteContext {
  cases: EvalCase[];
  /** System prompt template under test, canary included (in process). */
  systemPrompt: string;
  /** The raw template (prompt rules are checked on it). */
  promptTemplate: string;
  /** The mock OpenAI server (in process). */
  mock?: MockOpenAI;
  /** Set when the suites run through a running gateway. */
  remote?: RemoteTarget;
  budget: DefaultBudget;
  /** Whether time to first token is held to its budget (the test command measures no time). */
  timeBudgets: boolean;
  /** The judge for answers of the `local` model and of a gateway. */
  judge: Judge;
  /** The judge for the mock's scripted answers. */
  scriptedJudge: Judge;
  /** Called after each case run. */
  progress(label: string): void;
}

export type Suite = (ctx: SuiteContext) => Promise<MetricResult[]>;
