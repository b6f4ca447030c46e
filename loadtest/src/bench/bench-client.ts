/**
 * The bench's client process: opens N subscribers to one peer (plain WebSocket, Socket.IO, or the
 * gateway with hello + join), counts the frames they receive and reports over IPC.
 */
import WebSocket from 'ws';
import { joinRaw } from '../support/raw-socket.js';

/** Commands from the bench. */
export type ClientCommand =
  | { type: 'connect'; kind: 'ws' | 'socketio' | 'gateway'; url: string; count: number; token?: string; sessionId?: string }
  /** Report once `total` frames arrived, or `dones` frames of type `done` (gateway subscribers), or after `idleMs` without one. */
  | { type: 'expect'; total: number; idleMs: number; dones?: number }
  | { type: 'close' };

/** Reports to the bench. */
export type ClientReport =
  | { type: 'connected'; open: number; failed: number; error?: string }
  | { type: 'received'; received: number; windowMs: number; cpuSeconds: number; dones: number };

const send = (m: ClientReport) => process.send?.(m);
const closers: Array<() => void> = [];
let received = 0, firstAt = 0, lastAt = 0, dones = 0;
let waiting: { total: number; idleMs: number; dones?: number; cpu0: number } | null = null;

function onFrame(): void {
  const now = performance.now();
  received++;
  if (!firstAt) firstAt = now;
  lastAt = now;
  if (waiting && received >= waiting.total) finish();
}

/** A gateway subscriber's frame: the run's `done` ends its stream (coalesced tokens make the count unknown). */
function onSessionFrame(text: string): void {
  onFrame();
  // `"type":"done"` cannot occur inside a JSON string value (its quotes would be escaped).
  if (waiting?.dones !== undefined && text.includes('"type":"done"') && ++dones >= waiting.dones) finish();
}

function finish(): void {
  if (!waiting) return;
  const u = process.cpuUsage();
  send({ type: 'received', received, windowMs: lastAt - firstAt, cpuSeconds: (u.user + u.system) / 1e6 - waiting.cpu0, dones });
  waiting = null;
}

function openWs(url: string, i: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false, localAddress: `127.0.0.${(i % 4) + 1}` });
    ws.on('open', () => resolve());
    ws.on('message', onFrame);
    ws.on('error', reject);
    closers.push(() => ws.terminate());
  });
}

async function openSocketIo(url: string): Promise<void> {
  const { io } = await import('socket.io-client');
  const s = io(url, { transports: ['websocket'], forceNew: true, reconnection: false });
  s.on('f', onFrame);
  closers.push(() => s.disconnect());
  await new Promise<void>((resolve, reject) => {
    s.once('connect', () => resolve());
    s.once('connect_error', (e) => reject(e));
  });
}

function openGateway(url: string, token: string, i: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, 'switchboard.v1', { perMessageDeflate: false, localAddress: `127.0.0.${(i % 4) + 1}` });
    ws.on('open', () => ws.send(JSON.stringify({ type: 'hello', token })));
    ws.once('message', (d) => (d.toString().startsWith('{"type":"ready"') ? resolve() : reject(new Error(d.toString().slice(0, 200)))));
    ws.on('error', reject);
    ws.on('close', (code) => reject(new Error(`closed ${code} before ready`)));
    closers.push(() => ws.terminate());
  });
}

async function connect(c: Extract<ClientCommand, { type: 'connect' }>): Promise<void> {
  let open = 0, failed = 0, error: string | undefined;
  let next = 0;
  const one = async (i: number) => {
    if (c.kind === 'ws') return openWs(c.url, i);
    if (c.kind === 'socketio') return openSocketIo(c.url);
    if (c.sessionId) {
      const s = await joinRaw(c.url, c.token!, c.sessionId, onSessionFrame, { localAddress: `127.0.0.${(i % 4) + 1}` });
      closers.push(() => s.close());
      return;
    }
    return openGateway(c.url, c.token!, i);
  };
  await Promise.all(
    Array.from({ length: Math.min(100, c.count) }, async () => {
      while (next < c.count) {
        const i = next++;
        try {
          await one(i);
          open++;
        } catch (e) {
          failed++;
          error ??= (e as Error).message;
        }
      }
    }),
  );
  send({ type: 'connected', open, failed, error });
}

process.on('message', (m: ClientCommand) => {
  if (m.type === 'connect') void connect(m);
  else if (m.type === 'expect') {
    const u = process.cpuUsage();
    received = dones = 0;
    firstAt = lastAt = 0;
    waiting = { total: m.total, idleMs: m.idleMs, dones: m.dones, cpu0: (u.user + u.system) / 1e6 };
    const started = performance.now();
    const check = setInterval(() => {
      if (!waiting) return clearInterval(check);
      const since = performance.now() - (lastAt || started);
      if (since > (lastAt ? m.idleMs : 60_000)) {
        clearInterval(check);
        finish();
      }
    }, 100);
  } else {
    for (const c of closers) c();
    setTimeout(() => process.exit(0), 50);
  }
});
process.on('disconnect', () => process.exit(0));
