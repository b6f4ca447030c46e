/** `POST /v1/sessions/:id/runs/:runId/feedback` on a real gateway: stored, counted, scored; bad input refused. */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestGateway, type TestGateway } from '../../test/support/harness.js';

let t: TestGateway;
let dir: string;
let token: string;
let sessionId: string;
let runId: string;

const feedback = (path: string, body: unknown, as = token) => t.http('POST', path, { token: as, body });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sb-feedback-'));
  t = await startTestGateway({ transport: 'ws', env: { SCORES_FILE: join(dir, 'scores.jsonl') } });
  const u = await t.user();
  token = u.token;
  sessionId = await t.session(token);
  const s = await t.raw({ token });
  s.send({ type: 'send', id: 'm1', sessionId, text: 'what is 2+3?' });
  runId = (await s.next('ack')).runId;
  const frames = await s.run(runId);
  expect(frames.at(-1)).toMatchObject({ type: 'done', reason: 'stop' });
});
afterAll(async () => {
  await t?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('run feedback', () => {
  it('stores a thumbs-down, counts it in /metrics and writes the score file', async () => {
    const path = `/v1/sessions/${sessionId}/runs/${runId}/feedback`;
    expect((await feedback(path, { score: 1 })).status).toBe(204);
    expect((await feedback(path, { score: -1, comment: 'wrong total' })).status).toBe(204);
    const metrics = await t.http('GET', '/metrics');
    const text = typeof metrics.body === 'string' ? metrics.body : JSON.stringify(metrics.body);
    expect(text).toMatch(/switchboard_feedback_total\{[^}]*score="down"[^}]*\} 1/);
    expect(text).toMatch(/switchboard_feedback_total\{[^}]*score="up"[^}]*\} 1/);
    const lines = (await readFile(join(dir, 'scores.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.at(-1)).toMatchObject({ name: 'user-feedback', value: -1, comment: 'wrong total', metadata: { runId, sessionId, source: 'user' } });
  });

  it.each([
    ['no body', undefined],
    ['score 0', { score: 0 }],
    ['score as a string', { score: '1' }],
    ['score 2', { score: 2 }],
    ['comment over 1000 characters', { score: 1, comment: 'x'.repeat(1001) }],
    ['comment not a string', { score: 1, comment: 5 }],
    ['an array', [1]],
  ])('answers 400 for %s', async (_name, body) => {
    const r = await feedback(`/v1/sessions/${sessionId}/runs/${runId}/feedback`, body);
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe('bad_frame');
  });

  it('answers 401 without a token and 404 for unknown runs, unknown sessions and other users', async () => {
    expect((await t.http('POST', `/v1/sessions/${sessionId}/runs/${runId}/feedback`, { body: { score: 1 } })).status).toBe(401);
    expect((await feedback(`/v1/sessions/${sessionId}/runs/no-such-run/feedback`, { score: 1 })).status).toBe(404);
    expect((await feedback(`/v1/sessions/${sessionId}/runs/${'r'.repeat(300)}/feedback`, { score: 1 })).status).toBe(404);
    expect((await feedback(`/v1/sessions/not-a-uuid/runs/${runId}/feedback`, { score: 1 })).status).toBe(404);
    const other = await t.user();
    expect((await feedback(`/v1/sessions/${sessionId}/runs/${runId}/feedback`, { score: -1 }, other.token)).status).toBe(404);
  });
});
