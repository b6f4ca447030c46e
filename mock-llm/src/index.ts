export { createMockOpenAI } from './server.js';
export { MockFault, MockScenarioError, parseScenarioMap, parseScenarioSpec } from './scenario.js';
export type { MockOpenAI, MockOpenAIOptions } from './server.js';
export type { MockScenario } from './scenario.js';
export type { MockModelStats, MockOutcome, MockRequestRecord, MockRoute, MockStatsSnapshot } from './stats.js';
