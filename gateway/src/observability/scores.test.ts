/** The score sink against a local HTTP receiver standing in for Langfuse, and its file fallback. */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createScoreSink, feedbackScore, langfuseKeysFrom } from './scores.js';

interface Received {
  method: string;
  url: string;
  authorization: string | undefined;
  body: any;
}

let server: Server;
let baseUrl: string;
const received: Received[] = [];

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    const parts: Buffer[] = [];
    req.on('data', (p: Buffer) => parts.push(p));
    req.on('end', () => resolve(Buffer.concat(parts).toString('utf8')));
  });
}

beforeAll(async () => {
  server = createServer(async (req, res) => {
    const text = await readBody(req);
    received.push({ method: req.method ?? '', url: req.url ?? '', authorization: req.headers.authorization, body: text ? JSON.parse(text) : undefined });
    res.writeHead(207, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ successes: [], errors: [] }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
beforeEach(() => {
  received.length = 0;
});

describe('createScoreSink', () => {
  it('sends each score to Langfuse on its trace with name, value, comment and metadata', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'sink-')), 'scores.jsonl');
    const sink = createScoreSink({ langfuse: { publicKey: 'pk-test', secretKey: 'sk-test', baseUrl }, file });
    expect(sink.destination).toBe('langfuse');
    sink.score({ traceId: 'trace-1', name: 'judged.correctness', value: 0.8, comment: 'close', metadata: { caseId: 'judged-calc', model: 'local' } });
    sink.score({ traceId: 'trace-2', name: 'user-feedback', value: -1, comment: 'wrong total', metadata: { runId: 'r1', sessionId: 's1' } });
    await sink.flush();
    const batches = received.filter((r) => r.url.startsWith('/api/public/ingestion'));
    expect(batches.length).toBeGreaterThan(0);
    expect(batches[0].method).toBe('POST');
    expect(batches[0].authorization).toBe(`Basic ${Buffer.from('pk-test:sk-test').toString('base64')}`);
    const events = batches.flatMap((b) => b.body.batch as Array<{ type: string; body: Record<string, unknown> }>);
    expect(events.map((e) => e.type)).toEqual(['score-create', 'score-create']);
    expect(events[0].body).toMatchObject({ traceId: 'trace-1', name: 'judged.correctness', value: 0.8, comment: 'close', metadata: { caseId: 'judged-calc', model: 'local' } });
    expect(events[1].body).toMatchObject({ traceId: 'trace-2', name: 'user-feedback', value: -1, comment: 'wrong total' });
    expect(existsSync(file)).toBe(false);
    expect(sink.stats()).toEqual({ langfuse: 2, file: 0, dropped: 0 });
  });

  it('writes scores without a trace id, or without keys, to the JSONL file', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'sink-')), 'scores.jsonl');
    const withKeys = createScoreSink({ langfuse: { publicKey: 'pk', secretKey: 'sk', baseUrl }, file });
    withKeys.score({ name: 'tools.tools', value: 1, metadata: { caseId: 'calc-basic' } });
    await withKeys.flush();
    const noKeys = createScoreSink({ file });
    expect(noKeys.destination).toBe('file');
    noKeys.score({ traceId: 't9', name: 'user-feedback', value: -1, comment: 'no' });
    await noKeys.flush();
    const lines = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({ name: 'tools.tools', value: 1, metadata: { caseId: 'calc-basic' } });
    expect(lines[1]).toMatchObject({ traceId: 't9', name: 'user-feedback', value: -1, comment: 'no' });
    expect(received.filter((r) => r.url.startsWith('/api/public/ingestion'))).toHaveLength(0);
  });

  it('drops a malformed score instead of sending it', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'sink-')), 'scores.jsonl');
    const sink = createScoreSink({ file });
    sink.score({ name: '', value: 1 });
    sink.score({ name: 'x', value: Number.NaN });
    sink.score({ name: 'y'.repeat(201), value: 1 });
    await sink.flush();
    expect(sink.stats()).toEqual({ langfuse: 0, file: 0, dropped: 3 });
    expect(existsSync(file)).toBe(false);
  });

  it('takes its keys from LANGFUSE_* only when both are set', () => {
    expect(langfuseKeysFrom({})).toBeUndefined();
    expect(langfuseKeysFrom({ LANGFUSE_PUBLIC_KEY: 'pk' })).toBeUndefined();
    expect(langfuseKeysFrom({ LANGFUSE_PUBLIC_KEY: 'pk', LANGFUSE_SECRET_KEY: 'sk', LANGFUSE_BASE_URL: 'http://x' })).toEqual({ publicKey: 'pk', secretKey: 'sk', baseUrl: 'http://x' });
  });
});

describe('feedbackScore', () => {
  it('builds the user-feedback score the gateway sends for a thumbs-down', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'sink-')), 'scores.jsonl');
    const sink = createScoreSink({ langfuse: { publicKey: 'pk', secretKey: 'sk', baseUrl }, file });
    sink.score(feedbackScore({ traceId: 'trace-7', runId: 'run-1', sessionId: 'sess-1', score: -1, comment: 'wrong total' }));
    await sink.close();
    const events = received.filter((r) => r.url.startsWith('/api/public/ingestion')).flatMap((b) => b.body.batch as Array<{ body: Record<string, unknown> }>);
    expect(events.map((e) => e.body)).toEqual([expect.objectContaining({ traceId: 'trace-7', name: 'user-feedback', value: -1, comment: 'wrong total', metadata: { runId: 'run-1', sessionId: 'sess-1', source: 'user' } })]);
  });
});
