/**
 * A bare baseline server (uWS, `ws` or Socket.IO) in its own process: accepts subscribers and,
 * on command, streams N token-sized frames to all of them as fast as backpressure allows.
 *
 *   node --import tsx loadtest/src/bench/peer-server.ts <uws-bare|ws-bare|socketio>
 */
import { createServer } from 'node:http';
import { url as inspectorUrl } from 'node:inspector';
import type { Socket as NetSocket } from 'node:net';
import { tokenFrame, type PeerCommand, type PeerReport } from './frames.js';

const kind = process.argv[2];
// The bench forces GC through the inspector (when started with --inspect) before it reads memory.
const send = (m: PeerReport) => process.send?.(m.type === 'listening' ? { ...m, inspector: inspectorUrl() } : m);
/** Pause publishing while any subscriber has more than this queued. */
const HIGH_WATER = 1024 * 1024;
const BATCH = 32;
const tick = () => new Promise<void>((r) => setImmediate(r));

interface Peer {
  subscribers(): number;
  publish(seq: number): void;
  maxBuffered(): number;
}

async function stream(peer: Peer, frames: number): Promise<void> {
  const t0 = performance.now();
  for (let seq = 1; seq <= frames; ) {
    for (let b = 0; b < BATCH && seq <= frames; b++) peer.publish(seq++);
    await tick();
    while (peer.maxBuffered() > HIGH_WATER) await new Promise((r) => setTimeout(r, 1));
  }
  send({ type: 'streamed', frames, subscribers: peer.subscribers(), ms: performance.now() - t0 });
}

async function startUws(): Promise<Peer> {
  let uWS;
  try {
    uWS = (await import('uWebSockets.js')).default;
    if (typeof uWS.App !== 'function') throw new Error('uWebSockets.js has no App on this runtime');
  } catch (e) {
    send({ type: 'unavailable', reason: `uWebSockets.js cannot load on Node ${process.version}: ${(e as Error).message}` });
    process.exit(0);
  }
  const sockets = new Set<{ getBufferedAmount(): number }>();
  const app = uWS.App().ws('/*', {
    compression: uWS.DISABLED,
    maxBackpressure: 64 * 1024 * 1024,
    idleTimeout: 120,
    open: (ws) => {
      ws.subscribe('s');
      sockets.add(ws);
    },
    close: (ws) => sockets.delete(ws),
  });
  const port = await new Promise<number>((resolve, reject) =>
    app.listen('127.0.0.1', 0, (t) => (t ? resolve(uWS.us_socket_local_port(t)) : reject(new Error('listen failed')))),
  );
  send({ type: 'listening', port });
  return {
    subscribers: () => sockets.size,
    publish: (seq) => app.publish('s', JSON.stringify(tokenFrame(seq)), false, false),
    maxBuffered: () => {
      let m = 0;
      for (const s of sockets) m = Math.max(m, s.getBufferedAmount());
      return m;
    },
  };
}

async function startWs(): Promise<Peer> {
  const { WebSocketServer, WebSocket } = await import('ws');
  const server = createServer();
  const wss = new WebSocketServer({ server, perMessageDeflate: false });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  send({ type: 'listening', port: (server.address() as { port: number }).port });
  return {
    subscribers: () => wss.clients.size,
    publish: (seq) => {
      const text = JSON.stringify(tokenFrame(seq));
      for (const c of wss.clients) if (c.readyState === WebSocket.OPEN) c.send(text);
    },
    maxBuffered: () => {
      let m = 0;
      for (const c of wss.clients) m = Math.max(m, c.bufferedAmount);
      return m;
    },
  };
}

async function startSocketIo(): Promise<Peer> {
  const { Server } = await import('socket.io');
  const server = createServer();
  const io = new Server(server, { transports: ['websocket'], perMessageDeflate: false, serveClient: false });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  send({ type: 'listening', port: (server.address() as { port: number }).port });
  const raw = (s: unknown) => (s as { conn: { transport: { socket?: { _socket?: NetSocket } } } }).conn.transport.socket?._socket;
  return {
    subscribers: () => io.of('/').sockets.size,
    publish: (seq) => void io.emit('f', tokenFrame(seq)),
    maxBuffered: () => {
      let m = 0;
      for (const s of io.of('/').sockets.values()) m = Math.max(m, raw(s)?.writableLength ?? 0);
      return m;
    },
  };
}

async function main(): Promise<void> {
  const starters: Record<string, () => Promise<Peer>> = { 'uws-bare': startUws, 'ws-bare': startWs, socketio: startSocketIo };
  const start = starters[kind ?? ''];
  if (!start) {
    send({ type: 'unavailable', reason: `unknown peer "${kind}"` });
    process.exit(2);
  }
  let peer: Peer;
  try {
    peer = await start();
  } catch (e) {
    send({ type: 'unavailable', reason: `${kind} failed to start: ${(e as Error).message}` });
    process.exit(0);
  }
  process.on('message', (m: PeerCommand) => {
    if (m.type === 'stream') void stream(peer, m.frames);
  });
  process.on('disconnect', () => process.exit(0));
}

void main();
