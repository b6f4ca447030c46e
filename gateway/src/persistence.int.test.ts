import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStorage } from './backends/postgres/index.js';
import { dropSchema, serverPostgres, TEST_DATABASE_URL, uniqueSchema } from '../test/support/postgres.js';
import { startTestGateway, type TestGateway } from '../test/support/harness.js';
import type { RawSocket } from '../test/support/harness.js';

async function ask(s: RawSocket, sessionId: string, id: string, text: string): Promise<string> {
  s.send({ type: 'send', id, sessionId, text });
  const ack = await s.next('ack');
  const frames = await s.run(ack.runId);
  expect(frames.at(-1)).toMatchObject({ type: 'done', reason: 'stop' });
  return frames.map((f) => (f.type === 'token' ? f.text : '')).join('');
}

async function eventually<T>(probe: () => Promise<T>, ok: (v: T) => boolean): Promise<T> {
  let v = await probe();
  for (let i = 0; i < 100 && !ok(v); i++) {
    await new Promise((r) => setTimeout(r, 50));
    v = await probe();
  }
  return v;
}

describe('durable state on the embedded database', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sb-persist-'));
  });
  afterAll(async () => rm(dir, { recursive: true, force: true }));

  it('remembers a fact across sessions and a restart, for that user only; history and titles survive', async () => {
    const env = { DATA_DIR: dir };
    let t: TestGateway = await startTestGateway({ transport: 'uws', env, overrides: { inMemoryDatabase: false } });
    const u = await t.user();
    const first = await t.session(u.token);
    let s = await t.raw({ token: u.token });
    await ask(s, first, 'm1', 'remember that my favourite colour is teal');
    const memories = await eventually(() => t.http('GET', '/v1/me/memories', { token: u.token }), (r) => r.body.memories.length > 0);
    expect(memories.body.memories[0].text).toMatch(/teal/);
    await eventually(() => t.http('GET', `/v1/sessions/${first}/messages`, { token: u.token }), (r) => r.body.messages.length >= 2);
    await t.stop();

    t = await startTestGateway({ transport: 'uws', env, overrides: { inMemoryDatabase: false } });
    try {
      const login = await t.http('POST', '/v1/auth/login', { body: { email: u.email, password: 'correct horse battery' } });
      const token = login.body.accessToken as string;
      const second = await t.session(token);
      s = await t.raw({ token });
      expect(await ask(s, second, 'm2', 'what is my favourite colour?')).toMatch(/teal/i);
      const history = await t.http('GET', `/v1/sessions/${first}/messages`, { token });
      expect(history.body.messages[0]).toMatchObject({ role: 'user', content: 'remember that my favourite colour is teal' });
      expect((await t.http('GET', `/v1/sessions/${first}`, { token })).body.title).toBe('remember that my favourite colour is teal');

      const other = await t.user();
      const theirs = await t.session(other.token);
      const o = await t.raw({ token: other.token });
      expect(await ask(o, theirs, 'm3', 'what is my favourite colour?')).not.toMatch(/teal/i);
      expect((await t.http('GET', '/v1/me/memories', { token: other.token })).body.memories).toEqual([]);
      const mine = (await t.http('GET', '/v1/me/memories', { token })).body.memories[0];
      expect((await t.http('DELETE', `/v1/me/memories/${mine.id}`, { token: other.token })).status).toBe(404);
      expect((await t.http('DELETE', `/v1/me/memories/${mine.id}`, { token })).status).toBe(204);
      expect((await t.http('GET', '/v1/me/memories', { token })).body.memories).toEqual([]);
      expect((await t.http('GET', '/v1/me/memories')).status).toBe(401);
    } finally {
      await t.stop();
    }
  }, 120_000);
});

const server = await serverPostgres();
describe.skipIf(!server.available)(`two gateway processes on one Postgres${server.available ? '' : ` (skipped: ${server.reason})`}`, () => {
  const schema = uniqueSchema('gw_two');
  let a: TestGateway;
  let b: TestGateway;
  beforeAll(async () => {
    a = await startTestGateway({ transport: 'uws', overrides: { storage: await openStorage({ databaseUrl: TEST_DATABASE_URL, schema }) } });
    b = await startTestGateway({ transport: 'ws', overrides: { storage: await openStorage({ databaseUrl: TEST_DATABASE_URL, schema }) } });
  });
  afterAll(async () => {
    await a?.stop();
    await b?.stop();
    await dropSchema(schema);
  });

  it('continues a conversation on another process: checkpoints, transcript and memory are shared', async () => {
    const u = await a.user();
    const sessionId = await a.session(u.token);
    const sa = await a.raw({ token: u.token });
    await ask(sa, sessionId, 'p1', 'remember that my favourite colour is teal');
    await eventually(() => b.http('GET', '/v1/me/memories', { token: u.token }), (r) => r.body.memories.length > 0);
    const sb = await b.raw({ token: u.token });
    expect(await ask(sb, sessionId, 'p2', 'what is my favourite colour?')).toMatch(/teal/i);
    const history = await eventually(() => b.http('GET', `/v1/sessions/${sessionId}/messages`, { token: u.token }), (r) => r.body.messages.length >= 4);
    expect(history.body.messages.map((m: { role: string }) => m.role)).toContain('assistant');
    const tuple = await (await import('./backends/postgres/index.js')).createCheckpointer(b.backends.storage).getTuple({ configurable: { thread_id: sessionId } });
    const messages = (tuple?.checkpoint.channel_values as { messages?: unknown[] }).messages ?? [];
    expect(messages.length).toBeGreaterThanOrEqual(4);
  });
});
