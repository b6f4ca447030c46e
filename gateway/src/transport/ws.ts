import { SUBPROTOCOL } from '@switchboard/protocol';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { errorBody, expectsBody, statusLine, upgradeErrorCode } from './http-util.js';
import { SendStatus, type Socket, type Transport, type TransportHandlers, type TransportOptions } from './types.js';

class WsSocket<D> implements Socket<D> {
  closed = false;
  alive = true;
  readonly topics = new Set<string>();
  constructor(
    readonly ws: WebSocket,
    readonly data: D,
    private readonly topicMap: Map<string, Set<WsSocket<D>>>,
    private readonly maxBackpressure: number,
  ) {}
  send(message: string): SendStatus {
    if (this.closed || this.ws.readyState !== 1) return SendStatus.dropped;
    if (this.ws.bufferedAmount > this.maxBackpressure * 4) return SendStatus.dropped;
    this.ws.send(message);
    return this.ws.bufferedAmount > 0 ? SendStatus.backpressure : SendStatus.ok;
  }
  bufferedAmount(): number {
    return this.ws.bufferedAmount;
  }
  close(code: number, reason?: string): void {
    if (this.closed) return;
    this.closed = true;
    this.dropTopics();
    this.ws.close(code, reason);
    // A peer that never answers the close handshake must not hold the socket open.
    setTimeout(() => this.ws.terminate(), 2000).unref();
  }
  subscribe(topic: string): void {
    if (this.closed) return;
    this.topics.add(topic);
    let set = this.topicMap.get(topic);
    if (!set) this.topicMap.set(topic, (set = new Set()));
    set.add(this);
  }
  unsubscribe(topic: string): void {
    this.topics.delete(topic);
    const set = this.topicMap.get(topic);
    set?.delete(this);
    if (set?.size === 0) this.topicMap.delete(topic);
  }
  dropTopics(): void {
    for (const t of [...this.topics]) this.unsubscribe(t);
  }
}

function flatHeaders(req: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(', ') : v;
  return headers;
}

/** The node:http + ws transport: the portable fallback when uWS cannot load. */
export function createWsTransport<D>(handlers: TransportHandlers<D>, options: TransportOptions): Transport<D> {
  const topics = new Map<string, Set<WsSocket<D>>>();
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: options.maxFrameBytes,
    perMessageDeflate: false,
    handleProtocols: (protocols) => (protocols.has(SUBPROTOCOL) ? SUBPROTOCOL : false),
  });
  const server = createServer((req, res) => void handleHttp(req, res));
  server.keepAliveTimeout = 65_000;

  async function handleHttp(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x');
    const headers = flatHeaders(req);
    const controller = new AbortController();
    res.on('close', () => controller.abort());
    const chunks: Buffer[] = [];
    let size = 0;
    if (expectsBody(req.method ?? 'GET', headers)) {
      try {
        for await (const chunk of req as AsyncIterable<Buffer>) {
          size += chunk.length;
          if (size > options.maxBodyBytes) {
            res.writeHead(413, { 'content-type': 'application/json', connection: 'close' });
            res.end(errorBody('too_large', `body exceeds ${options.maxBodyBytes} bytes`));
            req.destroy();
            return;
          }
          chunks.push(chunk);
        }
      } catch {
        return;
      }
    }
    let response;
    try {
      response = await handlers.http({
        method: (req.method ?? 'GET').toUpperCase(),
        path: url.pathname,
        query: url.searchParams,
        headers,
        body: Buffer.concat(chunks),
        remoteAddress: req.socket.remoteAddress ?? '',
        signal: controller.signal,
      });
    } catch {
      response = { status: 500, body: errorBody('internal', 'internal error') };
    }
    if (res.destroyed) return;
    res.writeHead(response.status, response.headers);
    if ('stream' in response) {
      res.flushHeaders();
      for await (const chunk of response.stream) {
        if (res.destroyed) break;
        if (!res.write(chunk)) await new Promise((r) => res.once('drain', r));
      }
      res.end();
    } else res.end(response.body ?? '');
  }

  server.on('upgrade', (req: IncomingMessage, raw: Duplex, head: Buffer) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const reject = (status: number, message: string) => {
      const body = errorBody(upgradeErrorCode(status), message);
      raw.end(
        `HTTP/1.1 ${statusLine(status)}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
      );
    };
    raw.on('error', () => raw.destroy());
    if (url.pathname !== handlers.wsPath) return reject(404, 'not found');
    handlers
      .upgrade({ path: url.pathname, query: url.searchParams, headers: flatHeaders(req), remoteAddress: req.socket.remoteAddress ?? '' })
      .then(
        (decision) => {
          if (raw.destroyed) return;
          if (!decision.accept) return reject(decision.status, decision.message);
          wss.handleUpgrade(req, raw, head, (ws) => {
            const socket = new WsSocket(ws, decision.data, topics, options.maxBackpressureBytes);
            ws.on('pong', () => (socket.alive = true));
            ws.on('message', (data, isBinary) => {
              socket.alive = true;
              const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
              let text: string | null = null;
              if (!isBinary) {
                try {
                  text = new TextDecoder('utf-8', { fatal: true }).decode(buf);
                } catch {
                  text = null;
                }
              }
              handlers.message(socket, text, buf.length);
            });
            ws.on('error', () => {});
            ws.on('close', (code) => {
              socket.closed = true;
              socket.dropTopics();
              handlers.close(socket, code);
            });
            sockets.add(socket);
            ws.once('close', () => sockets.delete(socket));
            handlers.open(socket);
          });
        },
        () => reject(500, 'internal error'),
      );
  });

  const sockets = new Set<WsSocket<D>>();
  const heartbeat = setInterval(() => {
    for (const s of sockets) {
      if (!s.alive) {
        s.ws.terminate();
        continue;
      }
      s.alive = false;
      try {
        s.ws.ping();
      } catch {
        /* closing */
      }
    }
  }, Math.max(1000, (options.idleTimeoutSec * 1000) / 2));
  heartbeat.unref();

  return {
    name: 'ws',
    listen(host, port) {
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          const addr = server.address();
          resolve(typeof addr === 'object' && addr ? addr.port : port);
        });
      });
    },
    publish(topic, message) {
      const set = topics.get(topic);
      if (!set) return;
      for (const s of set) s.send(message);
    },
    async close() {
      clearInterval(heartbeat);
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
        setTimeout(() => {
          server.closeAllConnections();
        }, 1000).unref();
      });
      wss.close();
    },
  };
}
