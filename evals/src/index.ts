/** The evals package: run the evals, judge answers, send scores. */
export { runEvals, ALL_SUITES, missingRecordingsMessage } from './run.js';
export { loadCases, parseJsonl, EvalCase, SuiteName, SUITE_NAMES } from './dataset.js';
export { EvalsError, EvalsErrorCode } from './errors.js';
export { applyGate, loadBaseline, loadThresholds, writeBaseline } from './gate.js';
export { createModelJudge, createRecordedJudge, createRuleJudge } from './judge/judge.js';
export { JUDGE_METRICS, JudgeMetric, promptVersion, recordingKey } from './judge/metrics.js';
export { calibrate } from './calibrate.js';
export { compareResults, formatMarkdown, formatTable, readResults, writeResults } from './report.js';
export { createScoreSink, feedbackScore, FEEDBACK_SCORE_NAME, langfuseKeysFrom } from '@switchboard/gateway';

export type { RunEvalsOptions, JudgeChoice } from './run.js';
export type { Judge, JudgeOutcome, ModelJudgeOptions } from './judge/judge.js';
export type { JudgeInput } from './judge/metrics.js';
export type { EvalResults, MetricResult, CaseOutcome } from './results.js';
export type { Score, ScoreSink, ScoreSinkOptions, LangfuseKeys } from '@switchboard/gateway';
