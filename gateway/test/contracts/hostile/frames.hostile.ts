/**
 * Hostile socket frames: malformed, oversized, unauthorized and cross-user frames, and the
 * regression tests of D2, D4, D8 and D9.
 */
import type { ServerFrame } from '@switchboard/protocol';
import { expect, vi } from 'vitest';
import { openStorage } from '../../../src/backends/postgres/index.js';
import type { Storage } from '../../../src/ports.js';
import type { RawSocket } from '../../support/harness.js';
import { uuid, type Case } from './support.js';
import { startHostile, type HostileGateway, type Transport } from './start.js';

interface FrameCase {
  /** A frame object, a raw string, or a Buffer sent as a binary frame; `{own}`/`{other}` are session ids. */
  frame: unknown;
  /** The error code answered, or `'none'` when the frame is accepted silently. */
  answer: string;
}

const cases: Array<Case<FrameCase>> = [
  { name: 'text that is not JSON', input: { frame: 'not json', answer: 'bad_frame' } },
  { name: 'a JSON array', input: { frame: '[1,2]', answer: 'bad_frame' } },
  { name: 'JSON null', input: { frame: 'null', answer: 'bad_frame' } },
  { name: 'a JSON string', input: { frame: '"ping"', answer: 'bad_frame' } },
  { name: 'a JSON number', input: { frame: '42', answer: 'bad_frame' } },
  { name: 'an object without type', input: { frame: {}, answer: 'bad_frame' } },
  { name: 'a numeric type', input: { frame: { type: 42 }, answer: 'bad_frame' } },
  { name: 'an unknown type', input: { frame: { type: 'teleport' }, answer: 'bad_frame' } },
  { name: 'a server frame type', input: { frame: { type: 'ready', userId: 'x' }, answer: 'bad_frame' } },
  { name: 'a binary frame', input: { frame: Buffer.from([0xff, 0xfe, 0x00]), answer: 'bad_frame' } },
  { name: 'duplicate type keys (the last wins)', input: { frame: '{"type":"ping","type":"join"}', answer: 'bad_frame' } },
  { name: 'join without sessionId', input: { frame: { type: 'join' }, answer: 'bad_frame' } },
  { name: 'join with an empty sessionId', input: { frame: { type: 'join', sessionId: '' }, answer: 'bad_frame' } },
  { name: 'join with a 129-character sessionId', input: { frame: { type: 'join', sessionId: 's'.repeat(129) }, answer: 'bad_frame' } },
  { name: 'join with after -1', input: { frame: { type: 'join', sessionId: '{own}', after: -1 }, answer: 'bad_frame' } },
  { name: 'join with after 1.5', input: { frame: { type: 'join', sessionId: '{own}', after: 1.5 }, answer: 'bad_frame' } },
  { name: 'join with after as a string', input: { frame: { type: 'join', sessionId: '{own}', after: '3' }, answer: 'bad_frame' } },
  { name: 'join of a session id that is not a uuid', input: { frame: { type: 'join', sessionId: 'not-a-uuid' }, answer: 'not_found' } },
  { name: 'join of a random uuid', input: { frame: { type: 'join', sessionId: uuid() }, answer: 'not_found' } },
  { name: "join of another user's session", input: { frame: { type: 'join', sessionId: '{other}' }, answer: 'not_found' } },
  { name: 'leave of a session never joined', input: { frame: { type: 'leave', sessionId: uuid() }, answer: 'none' } },
  { name: 'send without id', input: { frame: { type: 'send', sessionId: '{own}', text: 'hi' }, answer: 'bad_frame' } },
  { name: 'send with an empty text', input: { frame: { type: 'send', id: 'e', sessionId: '{own}', text: '' }, answer: 'bad_frame' } },
  { name: 'send with only whitespace', input: { frame: { type: 'send', id: 'w', sessionId: '{own}', text: ' \n ' }, answer: 'bad_frame' } },
  { name: 'D2: send with U+0000 in the text', input: { frame: { type: 'send', id: 'nul', sessionId: '{own}', text: 'one\u0000two' }, answer: 'bad_frame' } },
  { name: 'D9: send over maxTextChars', input: { frame: { type: 'send', id: 'big', sessionId: '{own}', text: 'x'.repeat(32_001) }, answer: 'too_large' } },
  { name: 'send with an unknown ifBusy', input: { frame: { type: 'send', id: 'b', sessionId: '{own}', text: 'hi', ifBusy: 'explode' }, answer: 'bad_frame' } },
  { name: 'send with a numeric text', input: { frame: { type: 'send', id: 'n', sessionId: '{own}', text: 7 }, answer: 'bad_frame' } },
  { name: "send to another user's session", input: { frame: { type: 'send', id: 'evil', sessionId: '{other}', text: 'hi' }, answer: 'not_found' } },
  { name: 'cancel of an unknown run', input: { frame: { type: 'cancel', sessionId: '{own}', runId: uuid() }, answer: 'not_found' } },
  { name: "cancel in another user's session", input: { frame: { type: 'cancel', sessionId: '{other}', runId: uuid() }, answer: 'not_found' } },
  { name: 'cancel without runId', input: { frame: { type: 'cancel', sessionId: '{own}' }, answer: 'bad_frame' } },
  { name: 'ping with a string t', input: { frame: { type: 'ping', t: 'x' }, answer: 'bad_frame' } },
  { name: 'ping with t = 1e400 (Infinity)', input: { frame: '{"type":"ping","t":1e400}', answer: 'bad_frame' } },
  { name: 'a second hello', input: { frame: { type: 'hello', token: 'whatever' }, answer: 'bad_frame' } },
  { name: 'hello with too many resume sessions', input: { frame: { type: 'hello', resume: { token: 't', after: Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`s${i}`, 1])) } }, answer: 'bad_frame' } },
  { name: 'a __proto__ key', input: { frame: '{"type":"ping","__proto__":{"polluted":true}}', answer: 'none' } },
  { name: 'a deeply nested field', input: { frame: `{"type":"ping","x":${'['.repeat(3000)}${']'.repeat(3000)}}`, answer: 'none' } },
];

export function describeFramesHostile(transport: Transport): void {
  describe(`hostile socket frames over ${transport}`, () => {
    let t: HostileGateway;
    let me: Awaited<ReturnType<HostileGateway['user']>>;
    let own: string;
    let other: string;
    beforeAll(async () => {
      t = await startHostile(transport, { RATE_CONNECTIONS_PER_IP_PER_MINUTE: '10000', RATE_SOCKETS_PER_USER: '200' });
      me = await t.user();
      own = await t.session(me.token);
      other = await t.session((await t.user()).token);
    });
    afterAll(async () => t?.stop());

    const fill = (v: unknown): unknown => (typeof v === 'string' ? v.replace('{own}', own).replace('{other}', other) : v);
    const sendRaw = (s: RawSocket, frame: unknown) => {
      if (Buffer.isBuffer(frame)) s.ws.send(frame, { binary: true });
      else if (typeof frame === 'string') s.send(frame);
      else s.send(JSON.parse(JSON.stringify(frame), (_k, v) => fill(v)));
    };

    it.each(cases.map((c) => [c.name, c.input] as const))('%s', async (_name, c) => {
      const s = await t.raw({ token: me.token });
      const before = s.frames.length;
      sendRaw(s, c.frame);
      s.send({ type: 'ping', t: 99 });
      await s.next('pong');
      const answers = s.frames.slice(before).filter((f): f is Extract<ServerFrame, { type: 'error' }> => f.type === 'error');
      if (c.answer === 'none') expect(answers).toEqual([]);
      else expect(answers[0], JSON.stringify(s.frames.slice(before))).toMatchObject({ code: c.answer, message: expect.any(String) });
      expect(s.closeCode).toBeNull();
      expect(s.frames.some((f) => 'sessionId' in f && f.sessionId === other && f.type !== 'error')).toBe(false);
    });

    describe('D4: re-joining a joined session', () => {
      it('D4: a second join of a joined session re-syncs and stays live', async () => {
        const sessionId = await t.session(me.token);
        const s = await t.raw({ token: me.token });
        s.send({ type: 'send', id: 'd4a', sessionId, text: 'What is 2+2?' });
        const first = await s.run((await s.next('ack')).runId);
        await s.next('joined'); // the send's auto-join
        s.send({ type: 'join', sessionId, after: 0 });
        expect(await s.next('joined')).toMatchObject({ sessionId, replayed: first.length, seq: first.length });
        s.send({ type: 'join', sessionId, after: first.length });
        expect(await s.next('joined')).toMatchObject({ sessionId, replayed: 0 });
        s.send({ type: 'send', id: 'd4b', sessionId, text: 'What is 5+5?' });
        const second = await s.run((await s.next('ack')).runId);
        expect(second.at(-1)).toMatchObject({ type: 'done', reason: 'stop' });
        expect((second[0] as { seq: number }).seq).toBe(first.length + 1);
      });
      it('D4: a join after a send that auto-joined replays from after and stays live', async () => {
        const sessionId = await t.session(me.token);
        const s = await t.raw({ token: me.token });
        s.send({ type: 'send', id: 'd4c', sessionId, text: 'What is 3+3?' });
        const first = await s.run((await s.next('ack')).runId);
        await s.next('joined'); // the send's auto-join
        s.send({ type: 'join', sessionId, after: 1 });
        expect(await s.next('joined')).toMatchObject({ replayed: first.length - 1 });
        s.send({ type: 'send', id: 'd4d', sessionId, text: 'What is 4+4?' });
        const second = await s.run((await s.next('ack')).runId);
        expect(second.at(-1)).toMatchObject({ type: 'done', reason: 'stop' });
        expect((second[0] as { seq: number }).seq).toBe(first.length + 1);
      });
    });

    describe('D8: every inbound frame counts', () => {
      let strict: HostileGateway;
      beforeAll(async () => {
        strict = await startHostile(transport, { RATE_MESSAGES_PER_SECOND: '5', RATE_MESSAGE_BURST: '10', MAX_BAD_FRAMES: '5' });
      });
      afterAll(async () => strict?.stop());

      it('D8: pings count against the message rate limit', async () => {
        const u = await strict.user();
        const s = await strict.raw({ token: u.token });
        for (let i = 0; i < 100 && s.closeCode === null; i++) s.send({ type: 'ping', t: i });
        expect(await s.closed()).toBe(4008);
        const pongs = s.frames.filter((f) => f.type === 'pong').length;
        expect(pongs).toBeLessThan(30);
        expect(s.frames.some((f) => f.type === 'error' && f.code === 'rate_limited')).toBe(true);
      });
      it('D8: failed hello{resume} frames close an unauthenticated socket after a few', async () => {
        const s = await strict.raw();
        for (let i = 0; i < 30 && s.closeCode === null; i++) s.send({ type: 'hello', resume: { token: `forged-${i}` } });
        expect(await s.closed()).toBe(4001);
        expect(s.frames.filter((f) => f.type === 'error' && f.code === 'resume_expired').length).toBeLessThanOrEqual(3);
      });
      it('D8: garbage interleaved with valid frames still reaches 4002', async () => {
        const u = await strict.user();
        const s = await strict.raw({ token: u.token });
        for (let i = 0; i < 8 && s.closeCode === null; i++) {
          s.send('garbage');
          s.send({ type: 'ping', t: i });
          await s.next('pong').catch(() => undefined);
        }
        expect(await s.closed()).toBe(4002);
      });
      it('D8: an occasional bad frame is forgiven (the garbage score decays)', async () => {
        const u = await strict.user();
        const s = await strict.raw({ token: u.token });
        s.send('garbage');
        await s.next('error');
        // The score decays with time; this test cannot wait long, so it checks only that a single
        // bad frame does not close the socket and that the next valid frame is served.
        s.send({ type: 'ping', t: 1 });
        expect(await s.next('pong')).toMatchObject({ t: 1 });
        expect(s.closeCode).toBeNull();
      });
    });

    describe('D9: consistent size limits', () => {
      it('D9: ready advertises byte and character limits that fit together', async () => {
        const s = await t.raw({ token: me.token });
        const ready = s.frames.find((f) => f.type === 'ready') as Extract<ServerFrame, { type: 'ready' }>;
        const { maxFrameBytes, maxTextChars, maxTextBytes } = ready.limits as { maxFrameBytes: number; maxTextChars: number; maxTextBytes: number };
        expect(maxTextBytes).toBeLessThan(maxFrameBytes);
        // Every text within maxTextChars fits within maxTextBytes (3 UTF-8 bytes per UTF-16 unit at most).
        expect(maxTextChars * 3).toBeLessThanOrEqual(maxTextBytes);
      });
      it('D9: a send of 25,000 "€" (over 64 KiB of UTF-8, within maxTextChars) is served and keeps the socket', async () => {
        const sessionId = await t.session(me.token);
        const s = await t.raw({ token: me.token });
        s.send({ type: 'send', id: 'euro', sessionId, text: '€'.repeat(25_000) });
        const frames = await s.run((await s.next('ack')).runId);
        expect(frames[0]).toMatchObject({ type: 'user', text: '€'.repeat(25_000) });
        expect(s.closeCode).toBeNull();
      });
      it('D9: a send over maxTextChars answers too_large with its id and keeps the socket', async () => {
        const s = await t.raw({ token: me.token });
        s.send({ type: 'send', id: 'too-big', sessionId: own, text: '€'.repeat(32_001) });
        expect(await s.next('error')).toMatchObject({ code: 'too_large', ref: 'too-big' });
        s.send({ type: 'ping', t: 2 });
        expect(await s.next('pong')).toMatchObject({ t: 2 });
      });
      it('D9: a frame over maxFrameBytes closes 1009', async () => {
        const s = await t.raw({ token: me.token });
        const ready = s.frames.find((f) => f.type === 'ready') as Extract<ServerFrame, { type: 'ready' }>;
        s.send({ type: 'ping', pad: 'x'.repeat(ready.limits.maxFrameBytes + 10) });
        expect(await s.closed()).toBe(1009);
      });
      it(`D9: a frame over the transport's hard ceiling closes ${transport === 'uws' ? '1006 (uWS drops it, documented)' : '1009'}`, async () => {
        const s = await t.raw({ token: me.token });
        s.send({ type: 'ping', pad: 'x'.repeat(2 * 1024 * 1024) });
        expect(await s.closed()).toBe(transport === 'uws' ? 1006 : 1009);
      });
    });
  });
}

/** D2's second half: a transcript write that fails never skips the turn's charge, and is visible. */
export function describeTranscriptFailure(transport: Transport): void {
  describe(`a failing transcript write over ${transport}`, () => {
    let t: HostileGateway;
    beforeAll(async () => {
      const storage = await openStorage({});
      const failing: Storage = {
        ...storage,
        kind: storage.kind,
        hasVector: storage.hasVector,
        users: storage.users,
        refreshTokens: storage.refreshTokens,
        sessions: storage.sessions,
        usage: storage.usage,
        memories: storage.memories,
        ping: () => storage.ping(),
        close: () => storage.close(),
        messages: storage.messages,
        // The user message is stored before the ack; the after-run write (tool and assistant rows,
        // usage, title) is the one that fails here.
        runs: {
          ...storage.runs,
          record: async () => {
            throw new Error('injected: the transcript write failed');
          },
        },
      };
      t = await startHostile(transport, { DAILY_TOKEN_BUDGET: '100000' }, { storage: failing });
    });
    afterAll(async () => t?.stop());

    it('D2: a turn whose transcript write fails is still charged, logged and counted', async () => {
      const u = await t.user();
      const sessionId = await t.session(u.token);
      const s = await t.raw({ token: u.token });
      s.send({ type: 'send', id: 'charged', sessionId, text: 'What is 2+2?' });
      const frames = await s.run((await s.next('ack')).runId);
      const done = frames.at(-1) as Extract<ServerFrame, { type: 'done' }>;
      const used = done.usage!.inputTokens + done.usage!.outputTokens;
      expect(used).toBeGreaterThan(0);
      await vi.waitFor(async () => expect(await t.backends.limiters.tokens.remaining(u.userId)).toBe(100_000 - used));
      await vi.waitFor(() => expect(t.logs.some((l) => l.level === 'error' && /transcript/.test(l.message))).toBe(true));
      const metrics = await t.http('GET', '/metrics');
      expect(metrics.body).toMatch(/switchboard_transcript_write_failures_total\S* 1/);
    });
  });
}
