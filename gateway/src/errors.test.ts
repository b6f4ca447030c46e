import { ConflictError, InvalidInputError, MigrationError, NotFoundError, StorageUnavailableError } from './backends/postgres/errors.js';
import { GatewayError, toErrorFrame, toGatewayError } from './errors.js';

describe('toGatewayError', () => {
  it('keeps a GatewayError as it is', () => {
    const e = new GatewayError('busy', 'the session already has a run', { retryAfterMs: 500 });
    expect(toGatewayError(e)).toBe(e);
  });

  it('maps storage refusals to 400, 404 and 409 with their message', () => {
    const cases = [
      [new InvalidInputError('before must be a session id'), 'bad_frame', 400],
      [new NotFoundError('no such session'), 'not_found', 404],
      [new ConflictError('email already registered'), 'conflict', 409],
    ] as const;
    for (const [storage, code, status] of cases) {
      const err = toGatewayError(storage);
      expect(err).toMatchObject({ code, status, message: storage.message, retryable: false });
      expect(err.cause).toBe(storage);
    }
  });

  it('turns everything else into an internal 500 that hides the message', () => {
    for (const e of [new Error('connection string postgres://secret'), new StorageUnavailableError('down'), new MigrationError('bad'), 'a string', null]) {
      const err = toGatewayError(e);
      expect(err).toMatchObject({ code: 'internal', status: 500, message: 'internal error' });
      expect(err.cause).toBe(e);
    }
  });

  it('gives the error frame a socket receives', () => {
    const frame = toErrorFrame(new GatewayError('rate_limited', 'slow down', { retryAfterMs: 1200 }), { ref: 'm1', sessionId: 's1' });
    expect(frame).toEqual({ type: 'error', code: 'rate_limited', message: 'slow down', retryable: true, ref: 'm1', sessionId: 's1', retryAfterMs: 1200 });
  });
});
