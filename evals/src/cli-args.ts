/** Parsing of `pnpm evals` arguments (kept apart from the runner so bad usage fails fast). */
import { parseArgs } from 'node:util';
import { SUITE_NAMES, type SuiteName } from './dataset.js';
import { EvalsError } from './errors.js';
import type { JudgeChoice } from './run.js';

const ALL: SuiteName[] = [...SUITE_NAMES];

export const USAGE = `Usage:
  pnpm evals [--suite NAME[,NAME…]] [--judge offline|rules|MODEL] [--target inprocess|URL]
             (default judge: offline in process, rules through a gateway)
             [--prompt FILE] [--filter ID] [--repeat N] [--record] [--update-baseline] [--no-scores]
  pnpm evals calibrate [--judge offline|rules|MODEL]
  pnpm evals record-judge
  pnpm evals report A.json B.json

Suites: ${SUITE_NAMES.join(', ')}.
A real judge model reads EVAL_JUDGE_BASE_URL and EVAL_JUDGE_API_KEY (MODEL may also come from EVAL_JUDGE_MODEL).`;

function usage(message: string): never {
  throw new EvalsError('bad_arguments', `${message}\n\n${USAGE}`);
}

export function judgeChoice(value: string | undefined, repeat: number, record: boolean, target: string, env: Record<string, string | undefined>): JudgeChoice {
  const name = value ?? (target === 'inprocess' ? 'offline' : 'rules');
  if (name === 'offline') return { kind: 'offline' };
  if (name === 'rules') return { kind: 'rules' };
  const model = name === 'model' ? env.EVAL_JUDGE_MODEL : name;
  const baseURL = env.EVAL_JUDGE_BASE_URL;
  const apiKey = env.EVAL_JUDGE_API_KEY ?? env.OPENAI_API_KEY;
  if (!model) usage('--judge model needs EVAL_JUDGE_MODEL');
  if (!baseURL) usage(`--judge ${model} needs EVAL_JUDGE_BASE_URL (an OpenAI-compatible endpoint, e.g. http://127.0.0.1:11434/v1)`);
  return { kind: 'model', model, baseURL, apiKey: apiKey ?? 'none', repetitions: repeat, record };
}

export interface CliArgs {
  help: boolean;
  command: string | undefined;
  rest: string[];
  suites: SuiteName[];
  target: string;
  judge: JudgeChoice;
  repeat: number;
  values: { judge?: string; prompt?: string; filter?: string; record: boolean; 'update-baseline': boolean; 'no-scores': boolean };
}

/** Parses and validates the arguments; bad usage throws EvalsError(bad_arguments) with the usage text. */
export function parseCli(argv: string[], env: Record<string, string | undefined>): CliArgs {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        suite: { type: 'string' },
        judge: { type: 'string' },
        target: { type: 'string' },
        prompt: { type: 'string' },
        filter: { type: 'string' },
        repeat: { type: 'string' },
        record: { type: 'boolean', default: false },
        'update-baseline': { type: 'boolean', default: false },
        'no-scores': { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (error) {
    usage((error as Error).message);
  }
  const { values, positionals } = parsed;
  const [command, ...rest] = positionals;
  const repeat = values.repeat === undefined ? 1 : Number(values.repeat);
  if (!Number.isInteger(repeat) || repeat < 1 || repeat > 20) usage('--repeat must be an integer from 1 to 20');
  if (command === 'report' && rest.length !== 2) usage('report needs two results files');
  if (command !== undefined && !['report', 'calibrate', 'record-judge'].includes(command)) usage(`unknown command "${command}"`);
  const suites = values.suite ? values.suite.split(',').map((s) => s.trim()) : ALL;
  for (const s of suites) if (!(SUITE_NAMES as string[]).includes(s)) usage(`unknown suite "${s}"`);
  const target = values.target ?? 'inprocess';
  if (target !== 'inprocess' && !/^https?:\/\/[^/]+/.test(target)) usage('--target is inprocess or a gateway URL such as http://127.0.0.1:8080');
  const judge = command === undefined ? judgeChoice(values.judge, repeat, values.record ?? false, target, env) : { kind: 'offline' as const };
  return {
    help: values.help ?? false,
    command,
    rest,
    suites: suites as SuiteName[],
    target,
    judge,
    repeat,
    values: {
      ...(values.judge ? { judge: values.judge } : {}),
      ...(values.prompt ? { prompt: values.prompt } : {}),
      ...(values.filter ? { filter: values.filter } : {}),
      record: values.record ?? false,
      'update-baseline': values['update-baseline'] ?? false,
      'no-scores': values['no-scores'] ?? false,
    },
  };
}
