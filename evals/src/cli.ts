/**
 * `pnpm evals [--suite NAME[,NAME]] [--judge offline|rules|<model>] [--target inprocess|URL] …`,
 * `pnpm evals calibrate`, `pnpm evals record-judge`, `pnpm evals report A.json B.json`.
 * The only place that reads the environment. Exit codes: 0 pass, 1 the gate failed, 2 bad usage.
 */
import { calibrate, type CalibrationResult } from './calibrate.js';
import { judgeChoice, parseCli, USAGE } from './cli-args.js';
import { EvalsError } from './errors.js';
import { loadThresholds, writeBaseline } from './gate.js';
import { createModelJudge, createRecordedJudge, createRuleJudge, type Judge } from './judge/judge.js';
import { recordOfflineJudge } from './judge/record.js';
import { openRecordings } from './judge/recordings.js';
import { evalsPaths } from './paths.js';
import { compareResults, formatTable, readResults, writeResults } from './report.js';
import { missingRecordingsMessage, runEvals, type JudgeChoice } from './run.js';
import { createScoreSink, langfuseKeysFrom } from '@switchboard/gateway';

function progressLine(): (line: string) => void {
  let count = 0;
  const tty = process.stderr.isTTY;
  return (line) => {
    count += 1;
    if (tty) process.stderr.write(`\r\x1b[2K[${count}] ${line}`);
    else if (count % 25 === 0) process.stderr.write(`[${count}] ${line}\n`);
  };
}

function endProgress(): void {
  if (process.stderr.isTTY) process.stderr.write('\r\x1b[2K');
}

function judgeFor(choice: JudgeChoice): Judge {
  if (choice.kind === 'rules') return createRuleJudge();
  if (choice.kind === 'offline') return createRecordedJudge({ model: loadThresholds(evalsPaths.thresholds).offlineJudgeModel, store: openRecordings(evalsPaths.recordings) });
  const { record: _record, ...endpoint } = choice;
  return createModelJudge(endpoint);
}

function calibrationTable(results: CalibrationResult[], minAgreement: number): { text: string; pass: boolean } {
  const lines = ['metric          items  scored  errors  agreement  kappa  status'];
  let pass = true;
  for (const r of results) {
    const ok = r.errors === 0 && r.agreement >= minAgreement && r.items >= 30;
    pass &&= ok;
    lines.push(`${r.metric.padEnd(14)}  ${String(r.items).padStart(5)}  ${String(r.scored).padStart(6)}  ${String(r.errors).padStart(6)}  ${r.agreement.toFixed(3).padStart(9)}  ${r.kappa.toFixed(2).padStart(5)}  ${ok ? 'PASS' : 'FAIL'}`);
  }
  for (const r of results) for (const d of r.disagreements.slice(0, 5)) lines.push(`  ${r.metric}: ${d}`);
  return { text: lines.join('\n'), pass };
}

async function main(argv: string[]): Promise<number> {
  const args = parseCli(argv, process.env);
  if (args.help) {
    console.log(USAGE);
    return 0;
  }
  const thresholds = loadThresholds(evalsPaths.thresholds);
  const { command, rest, values, repeat } = args;

  if (command === 'report') {
    const { text, regressions } = compareResults(readResults(rest[0]), readResults(rest[1]), thresholds.maxDrop);
    console.log(text);
    if (regressions.length) console.log(`\n${regressions.length} regression(s) beyond ${thresholds.maxDrop}: ${regressions.join(', ')}`);
    return regressions.length ? 1 : 0;
  }
  if (command === 'calibrate') {
    const results = await calibrate(judgeFor(judgeChoice(values.judge, repeat, false, 'inprocess', process.env)), evalsPaths.calibration, progressLine());
    endProgress();
    const { text, pass } = calibrationTable(results, thresholds.calibration.minAgreement);
    console.log(text);
    return pass ? 0 : 1;
  }
  if (command === 'record-judge') {
    const progress = progressLine();
    const count = await recordOfflineJudge({
      model: thresholds.offlineJudgeModel,
      recordingsFile: evalsPaths.recordings,
      calibrationDir: evalsPaths.calibration,
      progress,
      runJudged: async (judge) => {
        await runEvals({ suites: ['judged'], judgeOverride: judge, progress });
      },
    });
    endProgress();
    console.log(`${count} recordings in ${evalsPaths.recordings}`);
    return 0;
  }
  const { suites, target } = args;
  const sink = values['no-scores'] ? undefined : createScoreSink({ langfuse: langfuseKeysFrom(process.env), file: evalsPaths.scores });
  const results = await runEvals({
    suites,
    target,
    judge: args.judge,
    ...(values.prompt ? { systemPromptFile: values.prompt } : {}),
    ...(values.filter ? { filter: values.filter } : {}),
    progress: progressLine(),
    ...(sink ? { sink } : {}),
  });
  endProgress();
  await sink?.close();
  console.log(formatTable(results));
  const missing = missingRecordingsMessage();
  if (missing) console.error(`\n${missing}`);
  const file = writeResults(evalsPaths.results, results);
  console.log(`\nResults: ${file} (and .md)${sink ? `; scores: ${sink.destination === 'langfuse' ? 'Langfuse (runs without a trace id: ' + evalsPaths.scores + ')' : evalsPaths.scores}` : ''}`);
  if (values['update-baseline']) {
    if (!results.pass) console.error('Not updating the baseline: the run did not pass.');
    else {
      writeBaseline(evalsPaths.baseline, results.metrics);
      console.log(`Baseline written: ${evalsPaths.baseline}`);
    }
  }
  return results.pass ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    endProgress();
    if (error instanceof EvalsError) {
      console.error(`evals: ${error.message}`);
      process.exitCode = 2;
    } else {
      console.error(error);
      process.exitCode = 2;
    }
  },
);
