import { startTestGateway } from '../test/support/harness.js';

describe('drain on stop', () => {
  it('says goaway, lets the running run finish, answers 503 on /readyz, then closes sockets 1012', async () => {
    const t = await startTestGateway({ transport: 'uws', env: { LOCAL_MODEL_TOKEN_DELAY_MS: '2' } });
    const u = await t.user();
    const sessionId = await t.session(u.token);
    const s = await t.raw({ token: u.token });
    s.send({ type: 'send', id: 'long', sessionId, text: 'a long answer please' });
    const ack = await s.next('ack');
    await s.next('token');
    const stopping = t.gw.stop({ drainTimeoutMs: 20_000 });
    expect(await s.next('goaway')).toMatchObject({ reason: 'draining' });
    const ready = await t.http('GET', '/readyz');
    expect(ready.status).toBe(503);
    expect(ready.body).toMatchObject({ draining: true });
    s.send({ type: 'send', id: 'late', sessionId: await t.session(u.token), text: 'hi' });
    expect(await s.next('error')).toMatchObject({ code: 'busy', ref: 'late', retryable: true });
    const frames = await s.run(ack.runId, 20_000);
    expect(frames.at(-1)).toMatchObject({ type: 'done', reason: 'stop' });
    expect(await s.closed(10_000)).toBe(1012);
    await stopping;
  });

  it('ends runs still going at the drain deadline with done{reason:"interrupted"}', async () => {
    const t = await startTestGateway({ transport: 'ws', env: { LOCAL_MODEL_TOKEN_DELAY_MS: '50' } });
    const u = await t.user();
    const sessionId = await t.session(u.token);
    const s = await t.raw({ token: u.token });
    s.send({ type: 'send', id: 'long', sessionId, text: 'a long answer please' });
    const ack = await s.next('ack');
    await s.next('token');
    const stopping = t.gw.stop({ drainTimeoutMs: 300 });
    const frames = await s.run(ack.runId, 10_000);
    expect(frames.at(-1)).toMatchObject({ type: 'done', reason: 'interrupted' });
    expect(frames.filter((f) => f.type === 'done')).toHaveLength(1);
    expect(await s.closed(10_000)).toBe(1012);
    await stopping;
  });
});
