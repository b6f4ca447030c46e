export {
  MockFault,
  MockScenarioError,
  createMockOpenAI,
  parseScenarioMap,
  parseScenarioSpec,
} from './mock-openai/index.js';
export type {
  MockModelStats,
  MockOpenAI,
  MockOpenAIOptions,
  MockOutcome,
  MockRequestRecord,
  MockRoute,
  MockScenario,
  MockStatsSnapshot,
} from './mock-openai/index.js';
