import { Writable } from 'node:stream';
import winston from 'winston';
import { createLogger } from '../logger.js';
import { InvalidInputError } from '../backends/postgres/errors.js';
import type { HttpRequest } from '../transport/types.js';
import { createClientAddress, createHttpHandler } from './handler.js';
import { json, Router } from './router.js';

function capturedLogger() {
  const lines: Array<Record<string, unknown>> = [];
  const logger = createLogger({ level: 'info', format: 'json', env: 'test' });
  const stream = new Writable({
    write(chunk, _enc, done) {
      lines.push(JSON.parse(String(chunk)) as Record<string, unknown>);
      done();
    },
  });
  logger.clear().add(new winston.transports.Stream({ stream }));
  return { logger, lines };
}

const request = (path: string, method = 'GET'): HttpRequest => ({
  method,
  path,
  query: new URLSearchParams(),
  headers: {},
  body: Buffer.alloc(0),
  remoteAddress: '127.0.0.1',
  signal: new AbortController().signal,
});

describe('HTTP handler errors', () => {
  it('logs every 500 with its request id and answers the API error body', async () => {
    const { logger, lines } = capturedLogger();
    const router = new Router({ logger })
      .add('GET', '/boom', async () => {
        throw new Error('the database said no');
      })
      .add('GET', '/fine', async () => json(200, { ok: true }));
    const handle = createHttpHandler(router, { address: createClientAddress(undefined), logger });

    const res = await handle(request('/boom'));
    expect(res).toMatchObject({ status: 500 });
    expect(JSON.parse(String((res as { body: string }).body))).toEqual({ error: { code: 'internal', message: 'internal error' } });
    await handle(request('/fine'));
    await handle(request('/boom'));

    const errors = lines.filter((l) => l.level === 'error');
    expect(errors).toHaveLength(2);
    for (const line of errors) {
      expect(line).toMatchObject({ message: 'request failed', path: '/boom', status: 500, requestId: expect.stringMatching(/^[a-z0-9]+$/) });
      expect(String(line.error)).toContain('the database said no');
    }
    expect(errors[0]!.requestId).not.toBe(errors[1]!.requestId);
  });

  it('does not log refusals: a storage invalid-input error is a 400', async () => {
    const { logger, lines } = capturedLogger();
    const router = new Router({ logger }).add('GET', '/bad', async () => {
      throw new InvalidInputError('before must be a session id');
    });
    const res = await createHttpHandler(router, { address: createClientAddress(undefined), logger })(request('/bad'));
    expect(res.status).toBe(400);
    expect(JSON.parse(String((res as { body: string }).body))).toEqual({ error: { code: 'bad_frame', message: 'before must be a session id' } });
    expect(lines.filter((l) => l.level === 'error')).toEqual([]);
  });
});
