import { FRAME_TYPES, FrameCounts, frameTypeIndexOfJson } from './frame-counts.js';

const typeOf = (json: string) => FRAME_TYPES[frameTypeIndexOfJson(json)];

describe('frame type from a serialized frame', () => {
  it('reads the type from the prefix of the JSON', () => {
    expect(typeOf(JSON.stringify({ type: 'token', sessionId: 's', runId: 'r', seq: 3, text: 'hi' }))).toBe('token');
    expect(typeOf(JSON.stringify({ type: 'done', sessionId: 's' }))).toBe('done');
    expect(typeOf('{"type":"tool","phase":"start"}')).toBe('tool');
  });

  it('does not confuse a type with a longer one it prefixes', () => {
    expect(typeOf('{"type":"joined","sessionId":"s"}')).toBe('joined');
    expect(typeOf('{"type":"join","sessionId":"s"}')).toBe('join');
  });

  it('counts unknown or unordered frames as other', () => {
    expect(typeOf('{"seq":1,"type":"token"}')).toBe('other');
    expect(typeOf('{"type":"tokenizer"}')).toBe('other');
    expect(typeOf('')).toBe('other');
  });
});

describe('FrameCounts', () => {
  it('counts one publish to N sockets as N deliveries and N times the bytes', () => {
    const c = new FrameCounts();
    const json = '{"type":"token","text":"é"}';
    c.delivered(json, 3);
    expect(c.framesOut[FRAME_TYPES.indexOf('token')]).toBe(3);
    expect(c.bytesOut).toBe(3 * Buffer.byteLength(json));
    c.out('ready', 10);
    c.in('send');
    c.in('bogus');
    expect(c.framesOut[FRAME_TYPES.indexOf('ready')]).toBe(1);
    expect(c.framesIn[FRAME_TYPES.indexOf('send')]).toBe(1);
    expect(c.framesIn[FRAME_TYPES.indexOf('other')]).toBe(1);
  });
});
