import { createMockOpenAI, type MockOpenAI } from '@switchboard/mock-llm';
import { startTestGateway, type TestGateway } from '../test/support/harness.js';

/** The gateway driving the real @langchain/openai client against the mock server over HTTP. */
describe('gateway on an OpenAI-compatible model chain', () => {
  let mock: MockOpenAI;
  let t: TestGateway;
  beforeAll(async () => {
    mock = await createMockOpenAI({
      scenarios: {
        primary: { fault: '429', retryAfterSec: 0 },
        backup: { ttftMs: 5, tokensPerSecond: 0, responseTokens: 8 },
        cutter: { fault: 'cut', cutAfterChunks: 4 },
      },
    });
    const models = [
      { name: 'primary', model: 'primary', baseURL: mock.url, apiKey: 'k', maxRetries: 1, retryBaseDelayMs: 5, breakerThreshold: 2, halfOpenAfterMs: 60_000 },
      { name: 'backup', model: 'backup', baseURL: mock.url, apiKey: 'k' },
    ];
    t = await startTestGateway({ transport: 'uws', env: { LLM_MODELS: JSON.stringify(models) } });
  });
  afterAll(async () => {
    await t?.stop();
    await mock?.close();
  });

  it('completes chats on the backup with no client-visible error, then skips the open breaker', async () => {
    const u = await t.user();
    const sessionId = await t.session(u.token);
    const s = await t.raw({ token: u.token });
    for (const id of ['c1', 'c2', 'c3']) {
      s.send({ type: 'send', id, sessionId, text: 'Tell me something nice' });
      const ack = await s.next('ack');
      const frames = await s.run(ack.runId);
      expect(frames.at(-1)).toMatchObject({ type: 'done', reason: 'stop', model: 'backup' });
      expect(frames.filter((f) => f.type === 'token').length).toBeGreaterThan(0);
    }
    expect(s.frames.filter((f) => f.type === 'error')).toEqual([]);
    const primaryCalls = mock.stats.models.primary?.requests ?? 0;
    const ready = await t.http('GET', '/readyz');
    const primary = ready.body.models.models.find((m: { name: string }) => m.name === 'primary');
    expect(primary.breaker).toBe('open');
    expect(ready.body.models.fallbacks).toBeGreaterThanOrEqual(3);
    // With the breaker open, another chat does not touch the primary.
    s.send({ type: 'send', id: 'c4', sessionId, text: 'And another' });
    await s.run((await s.next('ack')).runId);
    expect(mock.stats.models.primary?.requests ?? 0).toBe(primaryCalls);
  });

  it('calls tools through the real client and answers from their result', async () => {
    const u = await t.user();
    const sessionId = await t.session(u.token);
    const s = await t.raw({ token: u.token });
    s.send({ type: 'send', id: 'math', sessionId, text: 'What is 12*(3+4)?' });
    const frames = await s.run((await s.next('ack')).runId);
    expect(frames.find((f) => f.type === 'tool' && f.phase === 'end')).toMatchObject({ name: 'calculator', output: '84' });
    expect(frames.at(-1)).toMatchObject({ reason: 'stop', model: 'backup' });
    expect((frames.at(-1) as { usage?: { outputTokens: number } }).usage?.outputTokens).toBeGreaterThan(0);
  });
});

describe('gateway when the model fails after the first token', () => {
  let mock: MockOpenAI;
  let t: TestGateway;
  beforeAll(async () => {
    mock = await createMockOpenAI({ scenarios: { cutter: { fault: 'cut', cutAfterChunks: 4, responseTokens: 20 } } });
    const models = [
      { name: 'cutter', model: 'cutter', baseURL: mock.url, apiKey: 'k' },
      { name: 'spare', model: 'spare', baseURL: mock.url, apiKey: 'k' },
    ];
    t = await startTestGateway({ transport: 'ws', env: { LLM_MODELS: JSON.stringify(models) } });
  });
  afterAll(async () => {
    await t?.stop();
    await mock?.close();
  });

  it('ends the run with one done{reason:"error"} and a retryable model_unavailable error, no fallback', async () => {
    const u = await t.user();
    const sessionId = await t.session(u.token);
    const s = await t.raw({ token: u.token });
    s.send({ type: 'send', id: 'cut', sessionId, text: 'Tell me a story' });
    const ack = await s.next('ack');
    const frames = await s.run(ack.runId);
    expect(frames.filter((f) => f.type === 'token').length).toBeGreaterThan(0);
    expect(frames.filter((f) => f.type === 'done')).toHaveLength(1);
    expect(frames.at(-1)).toMatchObject({ reason: 'error', error: { code: 'model_unavailable' } });
    expect(await s.next('error')).toMatchObject({ code: 'model_unavailable', retryable: true, ref: 'cut', runId: ack.runId });
    expect(mock.stats.models.spare?.requests ?? 0).toBe(0);
  });

  it('aborts the model request when the run is cancelled (the mock sees the disconnect)', async () => {
    mock.setScenario('cutter', { ttftMs: 0, tokensPerSecond: 20, responseTokens: 200 });
    const u = await t.user();
    const sessionId = await t.session(u.token);
    const s = await t.raw({ token: u.token });
    const before = mock.stats.aborted ?? 0;
    s.send({ type: 'send', id: 'slow', sessionId, text: 'Tell me a long story' });
    const ack = await s.next('ack');
    await s.next('token');
    s.send({ type: 'cancel', sessionId, runId: ack.runId });
    const frames = await s.run(ack.runId);
    expect(frames.at(-1)).toMatchObject({ reason: 'cancelled' });
    await mock.waitFor((st) => st.aborted > before, 5000);
  });
});
