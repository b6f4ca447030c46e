import { BrokenCircuitError } from 'cockatiel';
import { AttemptError, AttemptTimeout, classifyAttemptError, retryAfterMsOf } from './attempt-error.js';

/** The shape of the OpenAI SDK's APIError: `status` and fetch `Headers`. */
function apiError(status: number, headers: Record<string, string> = {}): Error {
  return Object.assign(new Error(`${status} x`), { status, headers: new Headers(headers) });
}

class APIConnectionError extends Error {
  override name = 'APIConnectionError';
}

describe('attempt error classification', () => {
  it('parses retry-after-ms, Retry-After seconds and HTTP dates', () => {
    expect(retryAfterMsOf(apiError(429, { 'retry-after': '2' }))).toBe(2000);
    expect(retryAfterMsOf(apiError(429, { 'retry-after': '0.5' }))).toBe(500);
    expect(retryAfterMsOf(apiError(429, { 'retry-after-ms': '150', 'retry-after': '9' }))).toBe(150);
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(retryAfterMsOf(apiError(503, { 'retry-after': 'Thu, 01 Jan 2026 00:00:03 GMT' }), now)).toBe(3000);
    expect(retryAfterMsOf(apiError(429, { 'retry-after': 'soon' }))).toBeUndefined();
    expect(retryAfterMsOf(apiError(429))).toBeUndefined();
    expect(retryAfterMsOf('not an error')).toBeUndefined();
  });

  it.each([
    [429, true, true],
    [500, true, true],
    [503, true, true],
    [408, true, true],
    [400, false, false],
    [422, false, false],
    [401, false, true],
    [404, false, true],
  ])('HTTP %i: retryable %s, counts for the breaker %s', (status, retryable, counts) => {
    const e = classifyAttemptError(apiError(status));
    expect(e).toMatchObject({ kind: 'http', status, retryable, countsForBreaker: counts });
  });

  it('classifies network errors, malformed JSON, our timeouts and open circuits', () => {
    expect(classifyAttemptError(new APIConnectionError('Connection error.'))).toMatchObject({ kind: 'network', retryable: true });
    expect(classifyAttemptError(new TypeError('terminated'))).toMatchObject({ kind: 'network', retryable: true });
    const reset = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    expect(classifyAttemptError(new Error('wrapped', { cause: reset }))).toMatchObject({ kind: 'network' });
    expect(classifyAttemptError(new SyntaxError('Unexpected token'))).toMatchObject({ kind: 'malformed', retryable: true });
    expect(classifyAttemptError(new Error('x'), new AttemptTimeout('first_token_timeout', 10))).toMatchObject({
      kind: 'first_token_timeout',
      retryable: true,
      countsForBreaker: true,
    });
    expect(classifyAttemptError(new BrokenCircuitError())).toMatchObject({ kind: 'circuit_open', retryable: false, countsForBreaker: false });
    expect(classifyAttemptError(new Error('bug'))).toMatchObject({ kind: 'other', retryable: false, countsForBreaker: false });
  });

  it('a failure after the first token is never retryable', () => {
    const e = classifyAttemptError(apiError(503)).afterToken();
    expect(e).toBeInstanceOf(AttemptError);
    expect(e).toMatchObject({ afterFirstToken: true, retryable: false, countsForBreaker: true, status: 503 });
  });
});
