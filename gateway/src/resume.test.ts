import type { SessionFrame } from '@switchboard/protocol';
import { createNodeClient } from '@switchboard/protocol/node';
import { startTestGateway, type TestGateway } from '../test/support/harness.js';

describe('resume', () => {
  let t: TestGateway;
  beforeAll(async () => {
    t = await startTestGateway({ transport: 'uws', env: { LOCAL_MODEL_TOKEN_DELAY_MS: '3' } });
  });
  afterAll(async () => t?.stop());

  it('re-attaches with hello{resume} and replays exactly what was missed', async () => {
    const u = await t.user();
    const sessionId = await t.session(u.token);
    const first = await t.raw({ token: u.token });
    const ready = first.frames[0] as Extract<SessionFrame | { type: 'ready'; resume: string }, { type: 'ready' }>;
    first.send({ type: 'send', id: 'a', sessionId, text: 'give me a long answer' });
    const ack = await first.next('ack');
    await first.next('token');
    first.ws.terminate();
    const seen = first.frames.filter((f): f is SessionFrame => 'seq' in f && f.type !== 'joined' as string);
    const last = seen.at(-1)!.seq;

    const second = await t.raw();
    second.send({ type: 'hello', resume: { token: ready.resume, after: { [sessionId]: last } } });
    expect(await second.next('ready')).toMatchObject({ resumed: true, userId: u.userId });
    expect(await second.next('joined')).toMatchObject({ sessionId, gap: false });
    const rest = await second.run(ack.runId, 20_000);
    const all = [...seen, ...(rest as SessionFrame[])].map((f) => f.seq);
    expect(all).toEqual(all.map((_, i) => i + 1));
    expect(rest.filter((f) => f.type === 'done')).toHaveLength(1);
  });

  it('without `after`, re-joins the previous connection\'s sessions from the last frame written to it', async () => {
    const u = await t.user();
    const sessionId = await t.session(u.token);
    const first = await t.raw({ token: u.token });
    const ready = first.frames[0] as { resume: string };
    first.send({ type: 'send', id: 'q', sessionId, text: 'What is 5*5?' });
    const ack = await first.next('ack');
    const frames = await first.run(ack.runId);
    first.ws.close();
    await first.closed();
    await new Promise((r) => setTimeout(r, 100)); // the close is recorded asynchronously
    const second = await t.raw();
    second.send({ type: 'hello', resume: { token: ready.resume } });
    expect(await second.next('ready')).toMatchObject({ resumed: true });
    // Everything had been written to the first connection: nothing to replay, live from here.
    expect(await second.next('joined')).toMatchObject({ sessionId, replayed: 0, seq: frames.length });
    second.send({ type: 'send', id: 'q2', sessionId, text: 'What is 6*6?' });
    const next = await second.run((await second.next('ack')).runId);
    expect((next[0] as SessionFrame).seq).toBe(frames.length + 1);
  });

  it('answers resume_expired for a forged token and lets the client authenticate afresh', async () => {
    const u = await t.user();
    const s = await t.raw();
    s.send({ type: 'hello', resume: { token: 'forged.token.here' } });
    expect(await s.next('error')).toMatchObject({ code: 'resume_expired' });
    s.send({ type: 'hello', token: u.token });
    expect(await s.next('ready')).toMatchObject({ resumed: false });
  });

  it("does not let a resume token re-join another user's session", async () => {
    const alice = await t.user();
    const bob = await t.user();
    const aliceSession = await t.session(alice.token);
    const b = await t.raw({ token: bob.token });
    const ready = b.frames[0] as { resume: string };
    const s = await t.raw();
    s.send({ type: 'hello', resume: { token: ready.resume, after: { [aliceSession]: 0 } } });
    await s.next('ready');
    expect(await s.next('error')).toMatchObject({ code: 'not_found', sessionId: aliceSession });
    expect(s.frames.some((f) => f.type === 'joined')).toBe(false);
  });

  it('the typed client reconnects after drops mid-stream and sees every frame once', async () => {
    const u = await t.user();
    const sessionId = await t.session(u.token);
    const c = createNodeClient({ url: t.wsUrl, token: u.token, reconnectBaseMs: 20 });
    await c.connect();
    await c.join(sessionId);
    const run = c.send({ sessionId, text: 'a long answer please' });
    const seqs: number[] = [];
    let drops = 0;
    for await (const f of run) {
      seqs.push(f.seq);
      if (f.type === 'token' && seqs.length % 40 === 0 && drops < 4) {
        drops++;
        c.dropConnection();
      }
    }
    c.close();
    expect(drops).toBeGreaterThan(0);
    expect(seqs).toEqual(seqs.map((_, i) => i + 1));
    expect((await run.done).reason).toBe('stop');
  });
});
