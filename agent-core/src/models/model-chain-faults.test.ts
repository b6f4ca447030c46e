/**
 * The model chain's fault handling against the mock server over real HTTP: circuit breaker
 * with half-open recovery, streams cut or corrupted mid-way, hangs, every model down.
 */
import { createMockOpenAI, type MockOpenAI } from '@switchboard/mock-llm';
import { ModelUnavailableError } from './errors.js';
import type { ModelChainEvent } from './events.js';
import { collect, MODEL_CLIENTS, mockKit } from '../../test/support/model-chain.js';

let mock: MockOpenAI;
beforeAll(async () => {
  mock = await createMockOpenAI();
});
afterAll(async () => {
  await mock.close();
});
beforeEach(() => {
  for (const name of ['primary', 'backup']) mock.setScenario(name, undefined);
  mock.reset();
});

const requests = (model: string): number => mock.stats.models[model]?.requests ?? 0;

function answeredBy(chunks: Array<{ response_metadata: Record<string, unknown> }>): unknown {
  return chunks.find((c) => c.response_metadata.model_name !== undefined)?.response_metadata.model_name;
}

describe.each(MODEL_CLIENTS)('model chain faults (%s client)', (client) => {
  const { model: mockModel, chain: mockChain } = mockKit(() => mock, client);

  it('opens the breaker, skips the model while open, then recovers through half-open', async () => {
    mock.setScenario('primary', { fault: '500' });
    const events: ModelChainEvent[] = [];
    let openedAt = 0;
    const halfOpenAfterMs = 400;
    const primary = mockModel('primary', { maxRetries: 0, breakerThreshold: 2, halfOpenAfterMs });
    const chain = mockChain([primary, 'backup'], {
      onEvent: (e) => {
        events.push(e);
        if (e.type === 'breaker' && e.state === 'open') openedAt = performance.now();
      },
    });

    for (let i = 0; i < 2; i++) expect(answeredBy((await collect(chain.stream('x'))).chunks)).toBe('backup');
    expect(chain.stats().models[0].breaker).toBe('open');
    expect(requests('primary')).toBe(2);

    // Open: later calls go straight to the backup; the primary sees nothing.
    for (let i = 0; i < 3; i++) expect(answeredBy((await collect(chain.stream('y'))).chunks)).toBe('backup');
    expect(requests('primary')).toBe(2);
    expect(chain.stats().models[0]).toMatchObject({ shortCircuited: 3, calls: 2 });

    // After halfOpenAfter, one trial reaches the (now healthy) primary and closes the breaker.
    mock.setScenario('primary', { fault: 'none' });
    await new Promise((r) => setTimeout(r, Math.max(0, openedAt + halfOpenAfterMs + 20 - performance.now())));
    expect(answeredBy((await collect(chain.stream('z'))).chunks)).toBe('primary');
    expect(requests('primary')).toBe(3);
    expect(chain.stats().models[0].breaker).toBe('closed');
    const states = events.filter((e) => e.type === 'breaker').map((e) => (e as { state: string }).state);
    expect(states).toEqual(['open', 'half-open', 'closed']);
  });

  it('a failed half-open trial opens the breaker again', async () => {
    mock.setScenario('primary', { fault: '503', retryAfterSec: 0 });
    const primary = mockModel('primary', { maxRetries: 0, breakerThreshold: 1, halfOpenAfterMs: 100 });
    const chain = mockChain([primary, 'backup']);
    await collect(chain.stream('a'));
    expect(chain.stats().models[0].breaker).toBe('open');
    await new Promise((r) => setTimeout(r, 150));
    expect(answeredBy((await collect(chain.stream('b'))).chunks)).toBe('backup');
    expect(requests('primary')).toBe(2);
    expect(chain.stats().models[0].breaker).toBe('open');
  });

  it('while a half-open trial is in flight, other requests use the fallback instead of queueing', async () => {
    mock.setScenario('primary', { fault: '500' });
    const primary = mockModel('primary', { maxRetries: 0, breakerThreshold: 1, halfOpenAfterMs: 50 });
    const chain = mockChain([primary, 'backup']);
    await collect(chain.stream('a'));
    mock.setScenario('primary', { ttftMs: 300 });
    await new Promise((r) => setTimeout(r, 80));
    const trial = collect(chain.stream('trial'));
    await mock.waitFor((s) => s.models.primary?.inFlight === 1);
    expect(chain.stats().models[0].breaker).toBe('half-open');
    expect(answeredBy((await collect(chain.stream('other'))).chunks)).toBe('backup');
    expect(mock.stats.models.primary.inFlight).toBe(1);
    expect(answeredBy((await trial).chunks)).toBe('primary');
    expect(chain.stats().models[0].breaker).toBe('closed');
  });

  it('breaker state is per chain (process) and per model, shared by every request', async () => {
    mock.setScenario('primary', { fault: '500' });
    const primary = mockModel('primary', { maxRetries: 0, breakerThreshold: 3 });
    const chain = mockChain([primary, 'backup']);
    await Promise.all([1, 2, 3].map(() => collect(chain.stream('concurrent'))));
    expect(chain.stats().models.map((m) => m.breaker)).toEqual(['open', 'closed']);
    // The configured order is never changed by a request: the primary stays first.
    expect(chain.stats().models.map((m) => m.name)).toEqual(['primary', 'backup']);
  });

  it('a stream cut after the first token ends with ModelUnavailableError, no fallback', async () => {
    mock.setScenario('primary', { fault: 'cut', cutAfterChunks: 3, tokensPerSecond: 1000 });
    const chain = mockChain(['primary', 'backup']);
    const { chunks, error } = await collect(chain.stream('cut me'));
    expect(chunks.some((c) => c.text.length > 0)).toBe(true);
    expect(error).toBeInstanceOf(ModelUnavailableError);
    expect(error).toMatchObject({ code: 'model_unavailable', retryable: true, afterFirstToken: true, model: 'primary' });
    expect(requests('backup')).toBe(0);
    expect(requests('primary')).toBe(1);
    expect(chain.stats().models[0]).toMatchObject({ failures: 1, retries: 0 });
  });

  it('a cut before the first token is retried', async () => {
    mock.setScenario('primary', { fault: 'cut', cutAfterChunks: 1, failFirst: 1 });
    const chain = mockChain(['primary', 'backup']);
    const { chunks, error } = await collect(chain.stream('cut early'));
    expect(error).toBeUndefined();
    expect(answeredBy(chunks)).toBe('primary');
    expect(mock.stats.models.primary.outcomes).toEqual({ cut: 1, ok: 1 });
  });

  it('a malformed chunk before the first token is retried; after it, the run fails', async () => {
    mock.setScenario('primary', { fault: 'malformed', malformedAfterChunks: 1, failFirst: 1 });
    const chain = mockChain(['primary', 'backup']);
    const early = await collect(chain.stream('garbage early'));
    expect(early.error).toBeUndefined();
    expect(mock.stats.models.primary.outcomes).toEqual({ malformed: 1, ok: 1 });

    mock.setScenario('primary', { fault: 'malformed', malformedAfterChunks: 3 });
    const late = await collect(chain.stream('garbage late'));
    expect(late.error).toMatchObject({ code: 'model_unavailable', afterFirstToken: true });
    expect(requests('backup')).toBe(0);
  });

  it('a hang hits the first-token timeout, then the backup answers', async () => {
    mock.setScenario('primary', { fault: 'hang' });
    const events: ModelChainEvent[] = [];
    const primary = mockModel('primary', { firstTokenTimeoutMs: 100, maxRetries: 1 });
    const chain = mockChain([primary, 'backup'], { onEvent: (e) => events.push(e) });
    const { chunks, error } = await collect(chain.stream('anyone?'));
    expect(error).toBeUndefined();
    expect(answeredBy(chunks)).toBe('backup');
    await mock.waitFor((s) => s.models.primary?.outcomes.hang === 2);
    expect(mock.stats.models.primary.aborted).toBe(2);
    expect(events.filter((e) => e.type === 'failure').map((e) => (e as { reason: string }).reason)).toEqual([
      'first_token_timeout',
      'first_token_timeout',
    ]);
  });

  it('a stalled stream hits the idle timeout after the first token', async () => {
    mock.setScenario('primary', { tokensPerSecond: 2, responseTokens: 5 });
    const primary = mockModel('primary', { idleTimeoutMs: 100 });
    const chain = mockChain([primary, 'backup']);
    const { error } = await collect(chain.stream('slow'));
    expect(error).toMatchObject({ afterFirstToken: true });
    expect((error as ModelUnavailableError).failures.at(-1)?.kind).toBe('idle_timeout');
    await mock.waitFor((s) => s.aborted === 1);
  });

  it('every model down ends with ModelUnavailableError within the total budget', async () => {
    mock.setScenario('primary', { fault: 'hang' });
    mock.setScenario('backup', { fault: '500' });
    const chain = mockChain(
      [mockModel('primary', { firstTokenTimeoutMs: 5_000 }), mockModel('backup', { retryBaseDelayMs: 50 })],
      { totalBudgetMs: 300 },
    );
    const started = performance.now();
    const { error } = await collect(chain.stream('nobody home'));
    const elapsed = performance.now() - started;
    expect(error).toBeInstanceOf(ModelUnavailableError);
    const err = error as ModelUnavailableError;
    expect(err.afterFirstToken).toBe(false);
    expect(err.failures.map((f) => f.model)).toEqual(['primary', 'backup']);
    expect(err.failures[0].kind).toBe('first_token_timeout');
    // Generous bound: the budget is 300 ms; this only guards against waiting for the 5 s timeout.
    expect(elapsed).toBeLessThan(2_500);
  });

  it('reports the smallest Retry-After when every model is rate limited', async () => {
    mock.setScenario('primary', { fault: '429', retryAfterSec: 40 });
    mock.setScenario('backup', { fault: '429', retryAfterSec: 20 });
    const chain = mockChain(['primary', 'backup']);
    const { error } = await collect(chain.stream('busy'));
    expect(error).toMatchObject({ code: 'model_unavailable', afterFirstToken: false, retryAfterMs: 20_000 });
  });
});
