/**
 * Refreshes the offline judge's recordings without a real model: the real judge path (openevals
 * prompts, the OpenAI client, HTTP) runs against the mock OpenAI server, which is scripted per
 * request to answer with the rule judge's verdict as JSON. The recordings are therefore the rule
 * judge's opinions, transported exactly as a model's would be; `--judge <model> --record` records
 * a real model's instead.
 */
import { createMockOpenAI } from '@switchboard/mock-llm';
import { calibrate } from '../calibrate.js';
import { createModelJudge, ruleVerdictHeaders } from './judge.js';
import { openRecordings } from './recordings.js';

export const MOCK_RECORDING_SOURCE = 'mock-llm scripted with the rule judge verdicts';

/** Records the judged suite's and the calibration set's verdicts for `model`; returns the count. */
export async function recordOfflineJudge(options: {
  model: string;
  recordingsFile: string;
  calibrationDir: string;
  /** Runs the judged suite with the given judge (so the answers judged are the real ones). */
  runJudged: (judge: ReturnType<typeof createModelJudge>) => Promise<void>;
  progress?: (line: string) => void;
}): Promise<number> {
  const store = openRecordings(options.recordingsFile);
  store.retain((r) => r.model !== options.model); // drop stale answers of this judge model
  const mock = await createMockOpenAI();
  try {
    const judge = createModelJudge({
      model: options.model,
      baseURL: mock.url,
      apiKey: 'offline',
      headers: ruleVerdictHeaders,
      record: { store, source: MOCK_RECORDING_SOURCE },
    });
    await options.runJudged(judge);
    await calibrate(judge, options.calibrationDir, options.progress);
  } finally {
    await mock.close();
  }
  store.save();
  return store.size();
}
