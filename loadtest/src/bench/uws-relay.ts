/**
 * The relay floor of `pnpm bench chat`: the least a uWS server can do to stream a model answer
 * to a socket. A message `{"model":"…"}` opens a streaming request to the mock (node:http, the
 * minimal SSE parser) and every content delta goes out as one token frame, then `done`.
 *
 *   node --import tsx loadtest/src/bench/uws-relay.ts <mock /v1 base URL>
 */
import { readDeltas } from './min-sse.js';
import { Agent, request } from 'node:http';
import uWS from 'uWebSockets.js';

const baseURL = process.argv[2] ?? '';
const send = (m: { type: 'listening'; port: number } | { type: 'unavailable'; reason: string }) => process.send?.(m);
const agent = new Agent({ keepAlive: true, maxSockets: 1024 });
const url = new URL(`${baseURL.replace(/\/$/, '')}/chat/completions`);

interface Conn {
  open: boolean;
  seq: number;
}

function relay(ws: uWS.WebSocket<Conn>, model: string): void {
  const body = JSON.stringify({ model, stream: true, messages: [{ role: 'user', content: 'stream the relay answer' }] });
  const conn = ws.getUserData();
  const out = (frame: object) => conn.open && ws.send(JSON.stringify(frame), false, false);
  const req = request(
    url,
    { method: 'POST', agent, headers: { 'content-type': 'application/json', authorization: 'Bearer x', 'content-length': Buffer.byteLength(body) } },
    (res) => {
      res.setEncoding('utf8');
      res.on('data', readDeltas((text) => out({ type: 'token', seq: ++conn.seq, text })));
      res.on('end', () => out({ type: 'done', seq: ++conn.seq }));
    },
  );
  req.on('error', (e) => out({ type: 'error', message: e.message }));
  req.end(body);
}

const app = uWS.App().ws<Conn>('/*', {
  compression: uWS.DISABLED,
  idleTimeout: 120,
  upgrade: (res, req, context) =>
    res.upgrade<Conn>(
      { open: true, seq: 0 },
      req.getHeader('sec-websocket-key'),
      req.getHeader('sec-websocket-protocol'),
      req.getHeader('sec-websocket-extensions'),
      context,
    ),
  message: (ws, message) => {
    const { model } = JSON.parse(Buffer.from(message).toString('utf8')) as { model: string };
    relay(ws, model);
  },
  close: (ws) => {
    ws.getUserData().open = false;
  },
});
app.listen('127.0.0.1', 0, (token) => {
  if (token) send({ type: 'listening', port: uWS.us_socket_local_port(token) });
  else send({ type: 'unavailable', reason: 'uWS could not listen' });
});
process.on('disconnect', () => process.exit(0));
