/**
 * A bare `ws` subscriber for fan-out runs: authenticates, joins a session and hands each frame
 * to a callback with its arrival time — no schema parsing, so the client stays cheap.
 */
import WebSocket from 'ws';

/** A joined subscriber. */
export interface RawSubscriber {
  readonly ws: WebSocket;
  close(): void;
}

/**
 * Connects, sends `hello` and `join`, and resolves after `joined`.
 * @example const s = await joinRaw(wsUrl, token, sessionId, (text, at) => count++);
 */
export function joinRaw(
  wsUrl: string,
  token: string,
  sessionId: string,
  onFrame: (text: string, at: number) => void,
  opts: { localAddress?: string; after?: number } = {},
): Promise<RawSubscriber> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(wsUrl, 'switchboard.v1', { perMessageDeflate: false, localAddress: opts.localAddress });
    let joined = false;
    const fail = (why: string) => {
      if (!joined) reject(new Error(why));
    };
    ws.on('open', () => ws.send(JSON.stringify({ type: 'hello', token })));
    ws.on('message', (data) => {
      const at = performance.now();
      const text = data.toString();
      if (joined) return onFrame(text, at);
      if (text.startsWith('{"type":"ready"')) ws.send(JSON.stringify({ type: 'join', sessionId, after: opts.after }));
      else if (text.startsWith('{"type":"joined"')) {
        joined = true;
        resolve({ ws, close: () => ws.terminate() });
      } else if (text.startsWith('{"type":"error"')) fail(text);
    });
    ws.on('error', (e) => fail(e.message));
    ws.on('close', (code) => fail(`closed ${code}`));
  });
}

/** The `seq` of a session frame's text, or null (cheap: no full JSON parse). */
export function seqOf(text: string): number | null {
  const i = text.indexOf('"seq":');
  if (i < 0) return null;
  let n = 0;
  let j = i + 6;
  for (; j < text.length; j++) {
    const c = text.charCodeAt(j);
    if (c < 48 || c > 57) break;
    n = n * 10 + (c - 48);
  }
  return j > i + 6 ? n : null;
}

/** The `type` of a frame's text (frames start with `{"type":"…"`), or null. */
export function typeOf(text: string): string | null {
  if (!text.startsWith('{"type":"')) return null;
  const end = text.indexOf('"', 9);
  return end > 9 ? text.slice(9, end) : null;
}
