/**
 * The typed client when the socket drops after the server accepted a `send` but before its `ack`
 * arrived: the client resumes and retries the send by id (the server answers the same run id),
 * and the resume replays the run's first frames *before* that second `ack`.
 *
 * Regression test: the handle used to learn its run id only from `ack`, so those replayed frames
 * never reached it. The client now also binds a pending run on its `user` frame (whose `id` is
 * the send's id).
 */
import { SwitchboardClient, type SessionFrame, type WebSocketConstructor, type WebSocketLike } from '@switchboard/protocol';
import WebSocket from 'ws';
import { startTestGateway, type TestGateway } from '../support/harness.js';
import { within } from './processes.js';

/** A `ws` socket that loses the first `ack` it receives, as a network cut at that moment would. */
class AckLosingSocket implements WebSocketLike {
  static armed = true;
  onopen: WebSocketLike['onopen'] = null;
  onmessage: WebSocketLike['onmessage'] = null;
  onclose: WebSocketLike['onclose'] = null;
  onerror: WebSocketLike['onerror'] = null;
  private readonly ws: WebSocket;
  constructor(url: string, protocols?: string | string[]) {
    this.ws = new WebSocket(url, protocols);
    this.ws.on('open', () => this.onopen?.({}));
    this.ws.on('error', (e) => this.onerror?.(e));
    this.ws.on('close', (code, reason) => this.onclose?.({ code, reason: reason.toString() }));
    this.ws.on('message', (data) => {
      const text = String(data);
      if (AckLosingSocket.armed && text.startsWith('{"type":"ack"')) {
        AckLosingSocket.armed = false;
        this.ws.terminate();
        return;
      }
      this.onmessage?.({ data: text });
    });
  }
  get readyState(): number {
    return this.ws.readyState;
  }
  send(data: string): void {
    this.ws.send(data);
  }
  close(code?: number, reason?: string): void {
    this.ws.close(code, reason);
  }
}

describe('a send whose ack is lost with the connection', () => {
  let t: TestGateway;
  beforeAll(async () => {
    t = await startTestGateway({ transport: 'ws', env: { LOCAL_MODEL_TOKEN_DELAY_MS: '1' } });
  });
  afterAll(async () => t?.stop());

  it('still hands every frame of the run, and its done, to the RunHandle', async () => {
    const u = await t.user();
    const sessionId = await t.session(u.token);
    const client = new SwitchboardClient({ url: t.wsUrl, token: u.token, reconnectBaseMs: 20, WebSocket: AckLosingSocket as unknown as WebSocketConstructor });
    const all: SessionFrame[] = [];
    client.onFrame((f) => 'seq' in f && f.type !== 'joined' && all.push(f as SessionFrame));
    try {
      await client.connect();
      await client.join(sessionId);
      const run = client.send({ sessionId, text: 'hello there' });
      const viaHandle: SessionFrame[] = [];
      const collected = (async () => {
        for await (const f of run) viaHandle.push(f);
      })();
      const done = await within(run.done, 5_000, 'the run handle to get done');
      await collected;
      expect(AckLosingSocket.armed).toBe(false);
      expect(done.reason).toBe('stop');
      expect(viaHandle).toEqual(all.filter((f) => f.runId === done.runId));
    } finally {
      client.close();
    }
  });
});
