/**
 * The lean client's own edge cases against a raw node:http server on port 0 (what the mock
 * does not script): error bodies, provider error events, oversized lines, a stream without an
 * end, and how each failure is classified for retries and breakers.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { HumanMessage } from '@langchain/core/messages';
import { classifyAttemptError } from './attempt-error.js';
import type { StreamSink } from './chat-client.js';
import { createLeanClient } from './lean-client.js';
import { resolveModelSpec } from './model-spec.js';
import { MAX_SSE_LINE_CHARS } from './sse.js';

let server: http.Server;
let url = '';
let respond: (res: http.ServerResponse) => void = () => undefined;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => respond(res));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

interface Outcome {
  text: string;
  ended: boolean;
  error?: unknown;
}

function call(): Promise<Outcome> {
  const client = createLeanClient(resolveModelSpec({ name: 'm', model: 'm', baseURL: url }));
  return new Promise((resolve) => {
    const out: Outcome = { text: '', ended: false };
    const sink: StreamSink = {
      text: (t) => void (out.text += t),
      toolCall: () => undefined,
      usage: () => undefined,
      finish: () => undefined,
      end: () => resolve({ ...out, ended: true }),
      error: (error) => resolve({ ...out, error }),
    };
    client.start({ messages: [new HumanMessage('hi')], options: {} }, sink);
  });
}

const sse = (res: http.ServerResponse, body: string): void => {
  res.writeHead(200, { 'content-type': 'text/event-stream' });
  res.end(body);
};
const delta = (content: string): string => `data: ${JSON.stringify({ choices: [{ delta: { content } }] })}\n\n`;

describe('lean client edge cases', () => {
  it('a non-JSON error body still gives the status, classified as a transient HTTP failure', async () => {
    respond = (res) => {
      res.writeHead(502, { 'content-type': 'text/html', 'retry-after': '2' });
      res.end('<html>bad gateway</html>');
    };
    const { error } = await call();
    expect(error).toMatchObject({ status: 502, message: '502 Bad Gateway' });
    expect(classifyAttemptError(error)).toMatchObject({ kind: 'http', retryable: true, countsForBreaker: true, retryAfterMs: 2000 });
  });

  it('an OpenAI-style error body gives its message', async () => {
    respond = (res) => {
      res.writeHead(401, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: 'Incorrect API key provided', type: 'invalid_request_error' } }));
    };
    const { error } = await call();
    expect(error).toMatchObject({ status: 401, message: '401 Incorrect API key provided' });
    expect(classifyAttemptError(error)).toMatchObject({ kind: 'http', retryable: false, countsForBreaker: true });
  });

  it('an error event inside the stream fails the request after the text before it', async () => {
    respond = (res) => sse(res, `${delta('Hel')}data: {"error":{"message":"overloaded"}}\n\n`);
    const { text, error } = await call();
    expect(text).toBe('Hel');
    expect((error as Error).message).toMatch(/overloaded/);
  });

  it('a line longer than the limit is refused as a malformed response', async () => {
    respond = (res) => sse(res, `data: ${'x'.repeat(MAX_SSE_LINE_CHARS + 10)}`);
    const { error } = await call();
    expect(classifyAttemptError(error)).toMatchObject({ kind: 'malformed', retryable: true });
  });

  it('a stream that stops without a finish reason or [DONE] is a network failure, not an answer', async () => {
    respond = (res) => sse(res, delta('half an answ'));
    const { text, ended, error } = await call();
    expect(text).toBe('half an answ');
    expect(ended).toBe(false);
    expect(classifyAttemptError(error)).toMatchObject({ kind: 'network', retryable: true });
  });

  it('a complete stream ends normally', async () => {
    respond = (res) => sse(res, `${delta('Hi')}data: ${JSON.stringify({ choices: [{ delta: {}, finish_reason: 'stop' }] })}\n\ndata: [DONE]\n\n`);
    expect(await call()).toEqual({ text: 'Hi', ended: true });
  });

  it('a refused connection is a network failure', async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const client = createLeanClient(resolveModelSpec({ name: 'm', model: 'm', baseURL: `http://127.0.0.1:${port}/v1` }));
    const error = await new Promise((resolve) => {
      client.start({ messages: [new HumanMessage('hi')], options: {} }, {
        text: () => undefined, toolCall: () => undefined, usage: () => undefined, finish: () => undefined,
        end: () => resolve(undefined), error: resolve,
      });
    });
    expect(classifyAttemptError(error)).toMatchObject({ kind: 'network', retryable: true });
  });
});
