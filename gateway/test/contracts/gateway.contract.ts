import type { ServerFrame, SessionFrame } from '@switchboard/protocol';
import { expect } from 'vitest';
import type { AgentRunner } from '../../src/ports.js';
import { startTestGateway, type TestGateway } from '../support/harness.js';

function seqsOf(frames: ServerFrame[]): number[] {
  return frames.filter((f): f is SessionFrame => 'seq' in f && typeof f.seq === 'number').map((f) => f.seq);
}
function contiguous(seqs: number[]): boolean {
  return seqs.every((s, i) => i === 0 || s === seqs[i - 1]! + 1);
}

/** An agent that fails on cue, for the "done exactly once" guarantees. */
const throwingAgent: AgentRunner = {
  async *stream() {
    yield { type: 'token', text: 'partial ' };
    throw new Error('model exploded');
  },
};

/** An agent that emits tokens in bursts (several per event-loop turn), so the gateway coalesces them. */
const burstyAgent: AgentRunner = {
  async *stream() {
    for (let burst = 0; burst < 20; burst++) {
      for (let i = 0; i < 10; i++) yield { type: 'token', text: `${burst}.${i} ` };
      await new Promise((r) => setTimeout(r, 1));
    }
    yield { type: 'done', reason: 'stop', model: 'bursty' };
  },
};

/** The gateway suite: run once per transport, over real sockets on port 0. */
export function describeGatewaySuite(transport: 'uws' | 'ws', backend: { name: string; env?: Record<string, string> } = { name: 'embedded' }): void {
  describe(`gateway over ${transport} (${backend.name})`, () => {
    let t: TestGateway;
    beforeAll(async () => {
      t = await startTestGateway({ transport, env: { HELLO_TIMEOUT_MS: '300', MAX_FRAME_BYTES: '4096', MAX_BAD_FRAMES: '8', ...backend.env } });
    });
    afterAll(async () => t?.stop());

    it('runs the chosen transport and reports it in /readyz', async () => {
      expect(t.gw.transport).toBe(transport);
      const r = await t.http('GET', '/readyz');
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({ status: 'ready', transport, checks: { database: 'ok' } });
    });

    describe('authentication', () => {
      it('closes 4001 when no hello arrives in time', async () => {
        const s = await t.raw();
        expect(await s.closed()).toBe(4001);
      });
      it('closes 4001 on a bad token, after an unauthorized error', async () => {
        const s = await t.raw();
        s.send({ type: 'hello', token: 'not-a-jwt' });
        expect(await s.closed()).toBe(4001);
        expect(s.frames[0]).toMatchObject({ type: 'error', code: 'unauthorized' });
      });
      it('closes 4001 when the first frame is not hello', async () => {
        const s = await t.raw();
        s.send({ type: 'ping' });
        expect(await s.closed()).toBe(4001);
      });
      it('closes 4001 on garbage before hello', async () => {
        const s = await t.raw();
        s.send('{{{');
        expect(await s.closed()).toBe(4001);
      });
      it('accepts Authorization: Bearer on the upgrade and refuses a bad one', async () => {
        const u = await t.user();
        const s = await t.raw({ headers: { authorization: `Bearer ${u.token}` } });
        s.send({ type: 'hello' });
        expect(await s.next('ready')).toMatchObject({ userId: u.userId, resumed: false });
        await expect(t.raw({ headers: { authorization: 'Bearer nope' } })).rejects.toThrow(/401/);
      });
      it('refuses a resume token used as an access token', async () => {
        const u = await t.user();
        const s = await t.raw({ token: u.token });
        const ready = s.frames.find((f) => f.type === 'ready') as Extract<ServerFrame, { type: 'ready' }>;
        const s2 = await t.raw();
        s2.send({ type: 'hello', token: ready.resume });
        expect(await s2.closed()).toBe(4001);
      });
    });

    describe('bad input keeps the socket', () => {
      it('answers malformed JSON, unknown types and schema errors with bad_frame', async () => {
        const u = await t.user();
        const s = await t.raw({ token: u.token });
        s.send('not json');
        expect(await s.next('error')).toMatchObject({ code: 'bad_frame', retryable: false });
        s.send({ type: 'teleport' });
        expect((await s.next('error')).message).toMatch(/unknown frame type/);
        s.send({ type: 'send', id: 'm1', sessionId: 'x' });
        expect(await s.next('error')).toMatchObject({ code: 'bad_frame', ref: 'm1' });
        s.send([1, 2]);
        expect(await s.next('error')).toMatchObject({ code: 'bad_frame' });
        s.send({ type: 'join', sessionId: 'a'.repeat(500) });
        expect(await s.next('error')).toMatchObject({ code: 'bad_frame' });
        s.send({ type: 'ping', t: 7 });
        expect(await s.next('pong')).toMatchObject({ t: 7 });
        expect(s.closeCode).toBeNull();
      });
      it('answers a second hello with bad_frame', async () => {
        const u = await t.user();
        const s = await t.raw({ token: u.token });
        s.send({ type: 'hello', token: u.token });
        expect(await s.next('error')).toMatchObject({ code: 'bad_frame', message: 'already authenticated' });
      });
      it('closes 1009 on an oversized frame', async () => {
        const u = await t.user();
        const s = await t.raw({ token: u.token });
        s.send({ type: 'ping', pad: 'x'.repeat(5000) });
        expect(await s.closed()).toBe(1009);
      });
      it('closes 4002 when a client keeps sending garbage', async () => {
        const u = await t.user();
        const s = await t.raw({ token: u.token });
        for (let i = 0; i < 9; i++) s.send('garbage');
        expect(await s.closed()).toBe(4002);
      });
      it('answers binary frames with bad_frame', async () => {
        const u = await t.user();
        const s = await t.raw({ token: u.token });
        s.ws.send(Buffer.from([0xff, 0xfe, 0x00]));
        expect(await s.next('error')).toMatchObject({ code: 'bad_frame' });
      });
    });

    it('survives a burst of randomly mutated frames of every type', async () => {
      const u = await t.user();
      const sessionId = await t.session(u.token);
      const values = [null, true, -1, 0, 1.5, 1e308, '', 'x'.repeat(300), sessionId, [], {}, { nested: { deep: [1] } }, '\u0000', '🙂'];
      const types = ['hello', 'join', 'leave', 'send', 'cancel', 'ping', 'ready', 'token', 42, null];
      const fields = ['type', 'id', 'sessionId', 'runId', 'text', 'after', 'token', 'resume', 'ifBusy', 't', '__proto__', 'constructor'];
      let seed = 7;
      const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
      const s = await t.raw({ token: u.token });
      for (let i = 0; i < 300; i++) {
        const frame: Record<string, unknown> = { type: types[rnd(types.length)] };
        for (let k = rnd(4); k > 0; k--) frame[fields[rnd(fields.length)]!] = values[rnd(values.length)];
        s.send(rnd(10) === 0 ? JSON.stringify(frame).slice(0, rnd(20)) : frame);
        if (s.closeCode !== null) break;
      }
      // Whatever happened to that socket, the process still serves a new one.
      const fresh = await t.raw({ token: u.token });
      fresh.send({ type: 'ping', t: 1 });
      expect(await fresh.next('pong')).toMatchObject({ t: 1 });
      expect((await t.http('GET', '/healthz')).status).toBe(200);
    });

    describe('sessions on the socket', () => {
      it("never lets a user join, send to or cancel another user's session", async () => {
        const alice = await t.user();
        const bob = await t.user();
        const aliceSession = await t.session(alice.token);
        const a = await t.raw({ token: alice.token });
        const b = await t.raw({ token: bob.token });
        a.send({ type: 'join', sessionId: aliceSession });
        await a.next('joined');
        b.send({ type: 'join', sessionId: aliceSession });
        expect(await b.next('error')).toMatchObject({ code: 'not_found', sessionId: aliceSession });
        b.send({ type: 'send', id: 'evil', sessionId: aliceSession, text: 'hi' });
        expect(await b.next('error')).toMatchObject({ code: 'not_found', ref: 'evil' });
        b.send({ type: 'cancel', sessionId: aliceSession, runId: 'r' });
        expect(await b.next('error')).toMatchObject({ code: 'not_found' });
        b.send({ type: 'join', sessionId: 'not-a-uuid' });
        expect(await b.next('error')).toMatchObject({ code: 'not_found' });
        a.send({ type: 'send', id: 'm', sessionId: aliceSession, text: 'hello there' });
        const ack = await a.next('ack');
        await a.run(ack.runId);
        expect(b.frames.some((f) => 'sessionId' in f && f.sessionId === aliceSession && f.type !== 'error')).toBe(false);
      });

      it('streams a calculator run with contiguous seq from 1', async () => {
        const u = await t.user();
        const sessionId = await t.session(u.token);
        const s = await t.raw({ token: u.token });
        s.send({ type: 'send', id: 'q1', sessionId, text: 'What is 12*(3+4)?' });
        const ack = await s.next('ack');
        const frames = await s.run(ack.runId);
        expect(frames[0]).toMatchObject({ type: 'user', seq: 1, id: 'q1', text: 'What is 12*(3+4)?' });
        const tools = frames.filter((f) => f.type === 'tool');
        expect(tools[0]).toMatchObject({ name: 'calculator', phase: 'start' });
        expect(tools[1]).toMatchObject({ name: 'calculator', phase: 'end', output: '84' });
        expect(frames.filter((f) => f.type === 'token').map((f) => (f as { text: string }).text).join('')).toContain('84');
        const done = frames.at(-1)!;
        expect(done).toMatchObject({ type: 'done', reason: 'stop', model: 'local' });
        expect(frames.filter((f) => f.type === 'done')).toHaveLength(1);
        const seqs = seqsOf(frames);
        expect(seqs[0]).toBe(1);
        expect(contiguous(seqs)).toBe(true);
      });

      it('cancels a run mid-stream with done{reason:"cancelled"}', async () => {
        const u = await t.user();
        const sessionId = await t.session(u.token);
        const s = await t.raw({ token: u.token });
        s.send({ type: 'send', id: 'long', sessionId, text: 'give me a long answer please' });
        const ack = await s.next('ack');
        await s.next('token');
        s.send({ type: 'cancel', sessionId, runId: ack.runId });
        const frames = await s.run(ack.runId);
        expect(frames.at(-1)).toMatchObject({ type: 'done', reason: 'cancelled' });
        expect(frames.filter((f) => f.type === 'done')).toHaveLength(1);
        expect(contiguous(seqsOf(frames))).toBe(true);
      });

      it('answers busy while a run is going, and accepts a repeated send id once', async () => {
        const u = await t.user();
        const sessionId = await t.session(u.token);
        const s = await t.raw({ token: u.token });
        s.send({ type: 'send', id: 'first', sessionId, text: 'a long answer please' });
        const ack = await s.next('ack');
        s.send({ type: 'send', id: 'second', sessionId, text: 'me too' });
        expect(await s.next('error')).toMatchObject({ code: 'busy', ref: 'second', retryable: true });
        s.send({ type: 'send', id: 'first', sessionId, text: 'a long answer please' });
        const again = await s.next('ack');
        expect(again.runId).toBe(ack.runId);
        s.send({ type: 'cancel', sessionId, runId: ack.runId });
        const frames = await s.run(ack.runId);
        expect(frames.filter((f) => f.type === 'user')).toHaveLength(1);
        expect(s.frames.filter((f) => f.type === 'done')).toHaveLength(1);
        // The refused id is free again once the session is.
        s.send({ type: 'send', id: 'second', sessionId, text: 'now?' });
        const ack2 = await s.next('ack');
        expect(ack2.runId).not.toBe(ack.runId);
        await s.run(ack2.runId);
      });

      it('interrupts the running run with ifBusy:"interrupt"', async () => {
        const u = await t.user();
        const sessionId = await t.session(u.token);
        const s = await t.raw({ token: u.token });
        s.send({ type: 'send', id: 'one', sessionId, text: 'a long answer please' });
        const first = await s.next('ack');
        await s.next('token');
        s.send({ type: 'send', id: 'two', sessionId, text: 'What is 1+1?', ifBusy: 'interrupt' });
        const firstFrames = await s.run(first.runId);
        expect(firstFrames.at(-1)).toMatchObject({ type: 'done', reason: 'interrupted' });
        const second = await s.next('ack');
        const secondFrames = await s.run(second.runId);
        expect(secondFrames.at(-1)).toMatchObject({ reason: 'stop' });
        expect(secondFrames[0]!.type).toBe('user');
        expect(contiguous(seqsOf([...firstFrames, ...secondFrames]))).toBe(true);
      });

      it('queues a send behind the running run with ifBusy:"enqueue"', async () => {
        const u = await t.user();
        const sessionId = await t.session(u.token);
        const s = await t.raw({ token: u.token });
        s.send({ type: 'send', id: 'one', sessionId, text: 'What is 2*21?' });
        const first = await s.next('ack');
        s.send({ type: 'send', id: 'two', sessionId, text: 'What is 3*3?', ifBusy: 'enqueue' });
        const firstFrames = await s.run(first.runId);
        expect(firstFrames.at(-1)).toMatchObject({ reason: 'stop' });
        const second = await s.next('ack');
        const secondFrames = await s.run(second.runId);
        expect(secondFrames.at(-1)).toMatchObject({ reason: 'stop' });
        expect(seqsOf(secondFrames)[0]).toBe(seqsOf(firstFrames).at(-1)! + 1);
        expect(s.frames.filter((f) => f.type === 'error')).toEqual([]);
      });

      it('gives two sockets of one user on one session identical frames', async () => {
        const u = await t.user();
        const sessionId = await t.session(u.token);
        const phone = await t.raw({ token: u.token });
        const laptop = await t.raw({ token: u.token });
        phone.send({ type: 'join', sessionId, after: 0 });
        laptop.send({ type: 'join', sessionId, after: 0 });
        await phone.next('joined');
        await laptop.next('joined');
        phone.send({ type: 'send', id: 'x', sessionId, text: 'What is 2+2?' });
        const ack = await phone.next('ack');
        const a = await phone.run(ack.runId);
        const b = await laptop.run(ack.runId);
        expect(b).toEqual(a);
        expect(a.length).toBeGreaterThan(3);
      });

      it('replays exactly the missed frames on join{after}', async () => {
        const u = await t.user();
        const sessionId = await t.session(u.token);
        const s = await t.raw({ token: u.token });
        s.send({ type: 'send', id: 'r1', sessionId, text: 'What is 6*7?' });
        const ack = await s.next('ack');
        const frames = await s.run(ack.runId);
        const late = await t.raw({ token: u.token });
        late.send({ type: 'join', sessionId, after: 3 });
        const joined = await late.next('joined');
        expect(joined).toMatchObject({ seq: frames.length, replayed: frames.length - 3, gap: false });
        await late.run(ack.runId);
        const replayed = late.frames.filter((f) => f.type !== 'joined' && 'seq' in f);
        expect(replayed).toEqual(frames.slice(3));
        // Joining with after = last seq replays nothing.
        const none = await t.raw({ token: u.token });
        none.send({ type: 'join', sessionId, after: frames.length });
        expect(await none.next('joined')).toMatchObject({ replayed: 0 });
      });

      it('coalesces bursts of tokens into fewer frames, losing no text, and replays them exactly as sent live', async () => {
        const other = await startTestGateway({ transport, env: { ...backend.env, TOKEN_COALESCE_MS: '5' }, overrides: { agent: burstyAgent } });
        try {
          const u = await other.user();
          const sessionId = await other.session(u.token);
          const s = await other.raw({ token: u.token });
          s.send({ type: 'send', id: 'burst', sessionId, text: 'go' });
          const ack = await s.next('ack');
          const live = await s.run(ack.runId);
          const tokens = live.filter((f) => f.type === 'token') as Array<{ text: string }>;
          const expected = Array.from({ length: 200 }, (_, k) => `${Math.floor(k / 10)}.${k % 10} `).join('');
          expect(tokens.map((f) => f.text).join('')).toBe(expected);
          expect(tokens.length).toBeLessThan(200);
          expect(contiguous(seqsOf(live))).toBe(true);
          const late = await other.raw({ token: u.token });
          late.send({ type: 'join', sessionId, after: 0 });
          await late.next('joined');
          await late.run(ack.runId);
          expect(late.frames.filter((f) => f.type !== 'joined' && 'seq' in f)).toEqual(live);
        } finally {
          await other.stop();
        }
      });

      it('ends a run whose agent throws with exactly one done{reason:"error"}', async () => {
        const other = await startTestGateway({ transport, env: backend.env, overrides: { agent: throwingAgent } });
        try {
          const u = await other.user();
          const sessionId = await other.session(u.token);
          const s = await other.raw({ token: u.token });
          s.send({ type: 'send', id: 'boom', sessionId, text: 'hi' });
          const ack = await s.next('ack');
          const frames = await s.run(ack.runId);
          expect(frames.map((f) => f.type)).toEqual(['user', 'token', 'done']);
          expect(frames.at(-1)).toMatchObject({ reason: 'error', error: { code: 'internal' } });
          s.send({ type: 'ping' });
          await s.next('pong');
        } finally {
          await other.stop();
        }
      });
    });

    describe('the typed client', () => {
      it('streams a run as an async iterable and tracks seq', async () => {
        const u = await t.user();
        const sessionId = await t.session(u.token);
        const client = t.client(u.token);
        const ready = await client.connect();
        expect(ready.userId).toBe(u.userId);
        await client.join(sessionId);
        const run = client.send({ sessionId, text: 'What is 12*(3+4)?' });
        const types: string[] = [];
        for await (const f of run) types.push(f.type);
        expect(types[0]).toBe('user');
        expect(types.at(-1)).toBe('done');
        expect(types).toContain('tool');
        expect(client.lastSeq(sessionId)).toBe(types.length);
        expect((await run.done).reason).toBe('stop');
      });
      it('rejects a send to a session that is not found', async () => {
        const u = await t.user();
        const client = t.client(u.token);
        await client.connect();
        const run = client.send({ sessionId: '00000000-0000-4000-8000-000000000000', text: 'hi' });
        await expect(run.done).rejects.toMatchObject({ code: 'not_found' });
      });
    });
  });
}
