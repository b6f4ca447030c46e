/**
 * A minimal server-sent-events reader for OpenAI-style streams: only `data:` fields matter;
 * `event:`, `id:`, `retry:` and comments are skipped. Text in, one callback per event out, no
 * objects per line.
 */

/** Longest incomplete line kept between reads; a provider sending more is cut off. */
export const MAX_SSE_LINE_CHARS = 1 << 20;

/** A SyntaxError: the response is malformed (classified like unparseable JSON). */
export class SseLineTooLong extends SyntaxError {
  constructor() {
    super(`an event-stream line exceeded ${MAX_SSE_LINE_CHARS} characters`);
    this.name = 'SseLineTooLong';
  }
}

export class SseReader {
  private rest = '';
  private data: string | undefined;

  /** `onData` receives each event's data (multi-line data joined with `\n`); it may throw. */
  constructor(private readonly onData: (data: string) => void) {}

  /** Feeds decoded text (the reader keeps an incomplete last line for the next call). */
  push(text: string): void {
    const buf = this.rest === '' ? text : this.rest + text;
    let start = 0;
    for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n', start)) {
      let end = nl;
      if (end > start && buf.charCodeAt(end - 1) === 13) end--;
      if (end === start) {
        const data = this.data;
        if (data !== undefined) {
          this.data = undefined;
          this.onData(data);
        }
      } else if (buf.startsWith('data:', start)) {
        const from = buf.charCodeAt(start + 5) === 32 ? start + 6 : start + 5;
        const value = buf.slice(from, end);
        this.data = this.data === undefined ? value : `${this.data}\n${value}`;
      }
      start = nl + 1;
    }
    this.rest = start === 0 ? buf : buf.slice(start);
    if (this.rest.length > MAX_SSE_LINE_CHARS) throw new SseLineTooLong();
  }
}
