import { seqOf, typeOf } from './raw-socket.js';

describe('cheap frame peeking', () => {
  it('reads seq and type without parsing JSON', () => {
    const text = JSON.stringify({ type: 'token', sessionId: 's', runId: 'r', seq: 1234, text: ' hi' });
    expect(seqOf(text)).toBe(1234);
    expect(typeOf(text)).toBe('token');
  });

  it('answers null for frames without them', () => {
    expect(seqOf('{"type":"pong"}')).toBeNull();
    expect(seqOf('{"seq":x}')).toBeNull();
    expect(typeOf('not json')).toBeNull();
  });
});
