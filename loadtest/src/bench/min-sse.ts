/**
 * The floors' minimal SSE reader for OpenAI-style chat streams: splits events on blank lines and
 * hands each delta's text to `onText`. Deliberately bare (no retry fields, no multi-line data),
 * since it is the cost baseline the gateway is compared with.
 * @example
 * res.on('data', readDeltas((text) => tokens++));
 */
export function readDeltas(onText: (text: string) => void): (chunk: string) => void {
  let buf = '';
  return (chunk) => {
    buf += chunk;
    let end: number;
    while ((end = buf.indexOf('\n\n')) >= 0) {
      const event = buf.slice(0, end);
      buf = buf.slice(end + 2);
      if (!event.startsWith('data: ')) continue;
      const data = event.slice(6);
      if (data === '[DONE]') continue;
      const text = (JSON.parse(data) as { choices?: Array<{ delta?: { content?: string } }> }).choices?.[0]?.delta?.content;
      if (text) onText(text);
    }
  };
}
