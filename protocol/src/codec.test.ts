import { CLIENT_FRAME_TYPES, SERVER_FRAME_TYPES, type ClientFrame, type ServerFrame } from './frames.js';
import { encodeFrame, parseClientFrame, parseServerFrame } from './codec.js';

const sid = 'b4f0c1c2-7a41-4a0e-9a55-3c0d5f1b2a10';
const validClient: Record<(typeof CLIENT_FRAME_TYPES)[number], ClientFrame[]> = {
  hello: [
    { type: 'hello', token: 'abc' },
    { type: 'hello', resume: { token: 'r', after: { [sid]: 12 } }, client: { name: 'ios', version: '1.2' } },
    { type: 'hello' },
  ],
  join: [{ type: 'join', sessionId: sid }, { type: 'join', sessionId: sid, after: 0 }],
  leave: [{ type: 'leave', sessionId: sid }],
  send: [
    { type: 'send', id: 'm1', sessionId: sid, text: 'hi' },
    { type: 'send', id: 'm2', sessionId: sid, text: 'hi', ifBusy: 'enqueue' },
  ],
  cancel: [{ type: 'cancel', sessionId: sid, runId: 'r1' }],
  ping: [{ type: 'ping' }, { type: 'ping', t: 123.5 }],
};
const invalidClient: Record<(typeof CLIENT_FRAME_TYPES)[number], unknown[]> = {
  hello: [{ type: 'hello', token: '' }, { type: 'hello', token: 5 }, { type: 'hello', resume: { after: {} } }, { type: 'hello', resume: { token: 'r', after: { [sid]: -1 } } }],
  join: [{ type: 'join' }, { type: 'join', sessionId: '' }, { type: 'join', sessionId: sid, after: 1.5 }, { type: 'join', sessionId: 'x'.repeat(129) }],
  leave: [{ type: 'leave' }, { type: 'leave', sessionId: 3 }],
  send: [
    { type: 'send', sessionId: sid, text: 'hi' },
    { type: 'send', id: 'm', sessionId: sid, text: '   ' },
    { type: 'send', id: 'm', sessionId: sid, text: 'hi', ifBusy: 'maybe' },
  ],
  cancel: [{ type: 'cancel', sessionId: sid }, { type: 'cancel', runId: 'r' }],
  ping: [{ type: 'ping', t: 'now' }],
};

describe('parseClientFrame', () => {
  for (const type of CLIENT_FRAME_TYPES) {
    it(`accepts valid ${type} frames and round-trips them`, () => {
      for (const frame of validClient[type]) {
        const r = parseClientFrame(encodeFrame(frame));
        expect(r).toEqual({ ok: true, frame });
      }
    });
    it(`refuses invalid ${type} frames with bad_frame and a path`, () => {
      for (const frame of invalidClient[type]) {
        const r = parseClientFrame(JSON.stringify(frame));
        expect(r.ok).toBe(false);
        if (!r.ok) {
          expect(r.code).toBe('bad_frame');
          expect(r.message).toMatch(/:/);
        }
      }
    });
    it(`refuses an oversized ${type} frame with too_large`, () => {
      const big = JSON.stringify({ ...validClient[type][0], pad: 'x'.repeat(2048) });
      expect(parseClientFrame(big, 1024)).toMatchObject({ ok: false, code: 'too_large' });
    });
  }
  it('names an unknown type', () => {
    expect(parseClientFrame('{"type":"teleport"}')).toMatchObject({ ok: false, code: 'bad_frame', message: 'unknown frame type "teleport"' });
  });
  it('refuses non-JSON, non-objects and a missing type', () => {
    for (const raw of ['nope', '[]', '42', 'null', '"str"', '{}', '{"type":7}'])
      expect(parseClientFrame(raw)).toMatchObject({ ok: false, code: 'bad_frame' });
  });
  it('echoes the client frame id as ref on schema errors', () => {
    expect(parseClientFrame('{"type":"send","id":"abc","sessionId":"s"}')).toMatchObject({ ok: false, ref: 'abc' });
  });
  it('counts bytes, not characters, against the limit', () => {
    const text = 'é'.repeat(600); // 1200 bytes
    expect(parseClientFrame(JSON.stringify({ type: 'send', id: 'm', sessionId: sid, text }), 1000)).toMatchObject({ code: 'too_large' });
  });
});

const base = { sessionId: sid, runId: 'r1' };
const validServer: Record<(typeof SERVER_FRAME_TYPES)[number], ServerFrame> = {
  ready: { type: 'ready', connectionId: 'c', userId: 'u', resume: 't', resumed: false, heartbeatMs: 30000, limits: { maxFrameBytes: 65536, maxTextChars: 32000 }, node: 'n1' },
  joined: { type: 'joined', sessionId: sid, seq: 4, replayed: 2, gap: false },
  ack: { type: 'ack', id: 'm', sessionId: sid, runId: 'r1' },
  user: { type: 'user', ...base, seq: 1, id: 'm', text: 'hi' },
  token: { type: 'token', ...base, seq: 2, text: 'He' },
  tool: { type: 'tool', ...base, seq: 3, callId: 'c1', name: 'calculator', phase: 'end', output: '84' },
  done: { type: 'done', ...base, seq: 4, reason: 'stop', usage: { inputTokens: 3, outputTokens: 5 }, model: 'local' },
  error: { type: 'error', code: 'busy', message: 'busy', retryable: true, ref: 'm' },
  pong: { type: 'pong', t: 1 },
  goaway: { type: 'goaway', reason: 'draining', reconnectInMs: 500 },
};

describe('parseServerFrame', () => {
  for (const type of SERVER_FRAME_TYPES) {
    it(`round-trips ${type}`, () => {
      expect(parseServerFrame(encodeFrame(validServer[type]))).toEqual({ ok: true, frame: validServer[type] });
    });
  }
  it('refuses a session frame without seq or with seq 0', () => {
    expect(parseServerFrame(JSON.stringify({ ...validServer.token, seq: undefined })).ok).toBe(false);
    expect(parseServerFrame(JSON.stringify({ ...validServer.token, seq: 0 })).ok).toBe(false);
  });
  it('refuses an unknown error code and an unknown done reason', () => {
    expect(parseServerFrame(JSON.stringify({ ...validServer.error, code: 'oops' })).ok).toBe(false);
    expect(parseServerFrame(JSON.stringify({ ...validServer.done, reason: 'bored' })).ok).toBe(false);
  });
});

describe('text limits', () => {
  it('answers a send text over maxTextChars with too_large (not bad_frame), keeping its id', () => {
    const r = parseClientFrame(JSON.stringify({ type: 'send', id: 'm', sessionId: 's', text: 'x'.repeat(32_001) }), 1024 * 1024);
    expect(r).toMatchObject({ ok: false, code: 'too_large', ref: 'm' });
  });
});
