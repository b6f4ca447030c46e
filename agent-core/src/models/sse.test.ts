import { MAX_SSE_LINE_CHARS, SseLineTooLong, SseReader } from './sse.js';

function read(pieces: string[]): string[] {
  const out: string[] = [];
  const reader = new SseReader((data) => out.push(data));
  for (const piece of pieces) reader.push(piece);
  return out;
}

describe('SseReader', () => {
  it('yields the data of each event, whatever the read boundaries', () => {
    const stream = 'data: {"a":1}\n\ndata: {"b":2}\n\ndata: [DONE]\n\n';
    const expected = ['{"a":1}', '{"b":2}', '[DONE]'];
    expect(read([stream])).toEqual(expected);
    for (let cut = 1; cut < stream.length; cut++) expect(read([stream.slice(0, cut), stream.slice(cut)])).toEqual(expected);
    expect(read([...stream])).toEqual(expected);
  });

  it('handles CRLF, data without a space, multi-line data, comments and other fields', () => {
    const stream = ': keep-alive\r\n\r\nevent: message\r\nid: 7\r\ndata:first\r\ndata: second\r\nretry: 10\r\n\r\n';
    expect(read([stream])).toEqual(['first\nsecond']);
  });

  it('ignores blank lines without data and an unfinished last event', () => {
    expect(read(['\n\n\ndata: x\n\ndata: unfinished'])).toEqual(['x']);
  });

  it('refuses a line longer than the limit instead of buffering it forever', () => {
    const reader = new SseReader(() => undefined);
    expect(() => reader.push(`data: ${'x'.repeat(MAX_SSE_LINE_CHARS)}`)).toThrow(SseLineTooLong);
  });

  it('lets the callback throw (malformed JSON) to the caller', () => {
    const reader = new SseReader((data) => JSON.parse(data));
    expect(() => reader.push('data: {"broken": \n\n')).toThrow(SyntaxError);
  });
});
