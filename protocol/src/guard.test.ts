import { parseServerFrame } from './codec.js';
import { SERVER_FRAME_TYPES, type ServerFrame } from './frames.js';
import { isSessionFrame, readServerFrame } from './guard.js';

const sid = 'b4f0c1c2-7a41-4a0e-9a55-3c0d5f1b2a10';
const valid: Record<(typeof SERVER_FRAME_TYPES)[number], ServerFrame[]> = {
  ready: [{ type: 'ready', connectionId: 'c', userId: 'u', resume: 't', resumed: false, heartbeatMs: 30000, limits: { maxFrameBytes: 65536, maxTextChars: 32000 }, node: 'n1' }],
  joined: [
    { type: 'joined', sessionId: sid, seq: 4, replayed: 2, gap: false },
    { type: 'joined', sessionId: sid, seq: 9, replayed: 0, gap: true, activeRunId: 'r2' },
  ],
  ack: [{ type: 'ack', id: 'm', sessionId: sid, runId: 'r1' }],
  user: [{ type: 'user', sessionId: sid, runId: 'r1', seq: 1, id: 'm', text: 'hi' }],
  token: [{ type: 'token', sessionId: sid, runId: 'r1', seq: 2, text: '€' }],
  tool: [
    { type: 'tool', sessionId: sid, runId: 'r1', seq: 3, callId: 'c1', name: 'calculator', phase: 'start', input: { expression: '1+1' } },
    { type: 'tool', sessionId: sid, runId: 'r1', seq: 4, callId: 'c1', name: 'calculator', phase: 'end', output: '2' },
  ],
  done: [
    { type: 'done', sessionId: sid, runId: 'r1', seq: 5, reason: 'stop', usage: { inputTokens: 3, outputTokens: 4 } },
    { type: 'done', sessionId: sid, runId: 'r1', seq: 6, reason: 'error', error: { code: 'model_unavailable', message: 'every model failed' } },
  ],
  error: [{ type: 'error', code: 'busy', message: 'a run is going', retryable: true, ref: 'm2', sessionId: sid }],
  pong: [{ type: 'pong', t: 1 }, { type: 'pong' }],
  goaway: [{ type: 'goaway', reason: 'draining', reconnectInMs: 100 }],
};
const invalid: unknown[] = [
  { type: 'token', sessionId: sid, runId: 'r1', text: 'no seq' },
  { type: 'token', sessionId: sid, runId: 'r1', seq: 0, text: 'seq starts at 1' },
  { type: 'token', sessionId: sid, runId: 'r1', seq: 1.5, text: 'x' },
  { type: 'user', sessionId: sid, runId: 'r1', seq: 1, text: 'no id' },
  { type: 'tool', sessionId: sid, runId: 'r1', seq: 3, callId: 'c1', name: 'x', phase: 'middle' },
  { type: 'ready', connectionId: 'c', userId: 'u', resume: 't', resumed: false, heartbeatMs: 1 },
  { type: 'joined', sessionId: sid, seq: 1, replayed: 0 },
  { type: 'error', code: 'busy', retryable: true },
  { type: 'toString' },
  { type: 'constructor' },
  { type: 'future-frame', x: 1 },
  { sessionId: sid },
  [1, 2],
  null,
  'token',
];

describe('readServerFrame', () => {
  for (const type of SERVER_FRAME_TYPES) {
    it(`accepts every ${type} frame the zod schema accepts`, () => {
      for (const frame of valid[type]) {
        expect(parseServerFrame(JSON.stringify(frame)).ok).toBe(true);
        expect(readServerFrame(JSON.stringify(frame))).toEqual(frame);
      }
    });
  }

  it('refuses frames missing what the client relies on, unknown types and non-objects', () => {
    for (const frame of invalid) {
      expect(readServerFrame(JSON.stringify(frame)), JSON.stringify(frame)).toBeNull();
      expect(parseServerFrame(JSON.stringify(frame)).ok, JSON.stringify(frame)).toBe(false);
    }
    expect(readServerFrame('{not json')).toBeNull();
  });

  it('tells session frames apart', () => {
    expect(isSessionFrame(valid.token[0]!)).toBe(true);
    expect(isSessionFrame(valid.ack[0]!)).toBe(false);
  });
});
