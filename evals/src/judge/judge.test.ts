/**
 * Judges: the model judge over the real OpenAI client against the mock server (scripted with
 * judge JSON), zod validation of its answers, exact replay of recordings, loud missing recordings.
 */
import { expect } from 'vitest'; // openevals (via langsmith) swaps the global expect
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMockOpenAI, type MockOpenAI } from '@switchboard/mock-llm';
import { createModelJudge, createRecordedJudge, ruleVerdictHeaders, verdictOutcome } from './judge.js';
import { recordingKey, type JudgeInput } from './metrics.js';
import { openRecordings } from './recordings.js';
import { ruleVerdict } from './rules.js';

let mock: MockOpenAI;
beforeAll(async () => {
  mock = await createMockOpenAI();
});
afterAll(() => mock.close());

const input: JudgeInput = { inputs: 'What is 12*(3+4)?', outputs: '12*(3+4) = 84.', context: 'tool calculator → 84', reference: '84' };
const scripted = (text: string) => () => ({ 'x-mock-scenario': JSON.stringify({ text }) });

describe('model judge', () => {
  it('asks with the openevals prompt and a JSON schema, and scores the validated verdict', async () => {
    mock.reset();
    const judge = createModelJudge({ model: 'judge-x', baseURL: mock.url, apiKey: 'k', headers: scripted('{"reasoning":"right","score":0.9}') });
    expect(await judge.judge('correctness', input)).toMatchObject({ kind: 'score', score: 0.9, reasoning: 'right' });
    const body = mock.stats.log.at(-1)?.body as { model: string; messages: Array<{ role: string; content: string }>; response_format: { type: string } };
    expect(body.model).toBe('judge-x');
    expect(body.response_format.type).toBe('json_schema');
    expect(body.messages[0]).toMatchObject({ role: 'system' });
    expect(body.messages[1].content).toContain('expert data labeler evaluating model outputs for correctness');
    expect(body.messages[1].content).toContain('12*(3+4) = 84.');
  });

  it('reports an out-of-range, malformed or failed answer as an error, never a score', async () => {
    const outOfRange = createModelJudge({ model: 'j', baseURL: mock.url, apiKey: 'k', headers: scripted('{"reasoning":"x","score":7}') });
    expect(await outOfRange.judge('toxicity', input)).toMatchObject({ kind: 'error' });
    const missingField = createModelJudge({ model: 'j', baseURL: mock.url, apiKey: 'k', headers: scripted('{"score":1}') });
    expect(await missingField.judge('toxicity', input)).toMatchObject({ kind: 'error' });
    const down = createModelJudge({ model: 'j', baseURL: mock.url, apiKey: 'k', headers: () => ({ 'x-mock-scenario': '500' }) });
    expect(await down.judge('toxicity', input)).toMatchObject({ kind: 'error', error: expect.stringMatching(/judge failed/) });
    expect(verdictOutcome(['not json'])).toMatchObject({ kind: 'error' });
  });

  it('averages repetitions and reports their spread', async () => {
    const judge = createModelJudge({ model: 'j', baseURL: mock.url, apiKey: 'k', repetitions: 3, headers: scripted('{"reasoning":"ok","score":0.5}') });
    expect(await judge.judge('relevancy', input)).toMatchObject({ kind: 'score', score: 0.5, repetitions: 3, spread: 0 });
  });
});

describe('recorded judge', () => {
  it('records through the mock and replays exactly; an unknown input is missing, loudly', async () => {
    const store = openRecordings(join(mkdtempSync(join(tmpdir(), 'rec-')), 'judge.jsonl'));
    const recorder = createModelJudge({ model: 'mock-judge', baseURL: mock.url, apiKey: 'k', headers: ruleVerdictHeaders, record: { store, source: 'test' } });
    const live = await recorder.judge('correctness', input);
    expect(live).toMatchObject({ kind: 'score', score: ruleVerdict('correctness', input).score });
    store.save();
    const replay = createRecordedJudge({ model: 'mock-judge', store });
    expect(await replay.judge('correctness', input)).toEqual(live);
    const other = { ...input, outputs: '12*(3+4) = 85.' };
    expect(await replay.judge('correctness', other)).toEqual({ kind: 'missing', key: recordingKey('mock-judge', 'correctness', other) });
    expect(await createRecordedJudge({ model: 'another-judge', store }).judge('correctness', input)).toMatchObject({ kind: 'missing' });
  });
});
