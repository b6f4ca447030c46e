export {
  MockFault,
  MockScenarioError,
  createMockOpenAI,
  parseScenarioMap,
  parseScenarioSpec,
} from '@switchboard/mock-llm';
export type {
  MockModelStats,
  MockOpenAI,
  MockOpenAIOptions,
  MockOutcome,
  MockRequestRecord,
  MockRoute,
  MockScenario,
  MockStatsSnapshot,
} from '@switchboard/mock-llm';
export { createLatencyRecorder, formatSummary, summarize } from './stats/histogram.js';
export { byLabel, parsePrometheusText, PromParseError, sumMetric } from './stats/prometheus.js';
export { mergeSeqReports, SeqChecker } from './stats/seq-check.js';
export { startGatewayProcess } from './support/gateway-process.js';
export type { LatencyRecorder, LatencySummary } from './stats/histogram.js';
export type { PromSample } from './stats/prometheus.js';
export type { SeqReport } from './stats/seq-check.js';
export type { GatewayProcess, GatewayProcessOptions } from './support/gateway-process.js';
