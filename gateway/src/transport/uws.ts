import { SUBPROTOCOL } from '@switchboard/protocol';
import uWS from 'uWebSockets.js';
import { errorBody, expectsBody, statusLine } from './http-util.js';
import {
  SendStatus,
  type HttpResponse,
  type Socket,
  type Transport,
  type TransportHandlers,
  type TransportOptions,
} from './types.js';

interface UserData<D> {
  data: D;
  wrapper?: UwsSocket<D>;
}

const decoder = new TextDecoder('utf-8', { fatal: true });

class UwsSocket<D> implements Socket<D> {
  closed = false;
  constructor(private readonly ws: uWS.WebSocket<UserData<D>>, readonly data: D) {}
  send(message: string): SendStatus {
    if (this.closed) return SendStatus.dropped;
    const r = this.ws.send(message, false, false);
    return r === 1 ? SendStatus.ok : r === 0 ? SendStatus.backpressure : SendStatus.dropped;
  }
  bufferedAmount(): number {
    return this.closed ? 0 : this.ws.getBufferedAmount();
  }
  close(code: number, reason?: string): void {
    if (this.closed) return;
    this.closed = true;
    this.ws.end(code, reason);
  }
  subscribe(topic: string): void {
    if (!this.closed) this.ws.subscribe(topic);
  }
  unsubscribe(topic: string): void {
    if (!this.closed) this.ws.unsubscribe(topic);
  }
}

/** True when the native uWebSockets.js binary loads on this runtime. */
export function uwsAvailable(): boolean {
  try {
    const app = uWS.App();
    return typeof app.listen === 'function';
  } catch {
    return false;
  }
}

function readHeaders(req: uWS.HttpRequest): Record<string, string> {
  const headers: Record<string, string> = {};
  req.forEach((k, v) => (headers[k] = v));
  return headers;
}

/** The uWebSockets.js transport: topics publish a serialized message once to every subscriber. */
export function createUwsTransport<D>(handlers: TransportHandlers<D>, options: TransportOptions): Transport<D> {
  const app = uWS.App();
  let listenSocket: uWS.us_listen_socket | null = null;

  app.ws<UserData<D>>(handlers.wsPath, {
    compression: uWS.DISABLED,
    // Headroom so we, not uWS, see oversized frames and close them with 1009; uWS drops a frame
    // beyond this hard ceiling without a close code.
    maxPayloadLength: Math.min(16 * 1024 * 1024, options.maxFrameBytes * 16),
    maxBackpressure: options.maxBackpressureBytes * 4,
    closeOnBackpressureLimit: 0,
    idleTimeout: options.idleTimeoutSec,
    sendPingsAutomatically: true,
    upgrade: (res, req, context) => {
      const headers = readHeaders(req);
      const url = req.getUrl();
      const query = new URLSearchParams(req.getQuery() ?? '');
      const key = req.getHeader('sec-websocket-key');
      const protocols = req.getHeader('sec-websocket-protocol');
      const extensions = req.getHeader('sec-websocket-extensions');
      const remoteAddress = Buffer.from(res.getRemoteAddressAsText()).toString();
      let aborted = false;
      res.onAborted(() => (aborted = true));
      handlers.upgrade({ path: url, query, headers, remoteAddress }).then(
        (decision) => {
          if (aborted) return;
          res.cork(() => {
            if (!decision.accept) {
              res.writeStatus(statusLine(decision.status)).writeHeader('content-type', 'application/json');
              res.end(errorBody(decision.status === 429 ? 'rate_limited' : 'unauthorized', decision.message));
              return;
            }
            const offered = protocols.split(',').map((p) => p.trim());
            const protocol = offered.includes(SUBPROTOCOL) ? SUBPROTOCOL : '';
            res.upgrade<UserData<D>>({ data: decision.data }, key, protocol, extensions, context);
          });
        },
        () => {
          if (!aborted) res.cork(() => res.writeStatus('500 Internal Server Error').end());
        },
      );
    },
    open: (ws) => {
      const ud = ws.getUserData();
      ud.wrapper = new UwsSocket(ws, ud.data);
      handlers.open(ud.wrapper);
    },
    message: (ws, message, isBinary) => {
      const socket = ws.getUserData().wrapper!;
      const bytes = message.byteLength;
      let text: string | null = null;
      // An oversized frame is not decoded: the core sees its size and closes with 1009.
      if (!isBinary && bytes <= options.maxFrameBytes) {
        try {
          text = decoder.decode(message);
        } catch {
          text = null;
        }
      }
      handlers.message(socket, text, bytes);
    },
    close: (ws, code) => {
      const socket = ws.getUserData().wrapper!;
      socket.closed = true;
      handlers.close(socket, code);
    },
  });

  app.any('/*', (res, req) => {
    const method = req.getMethod().toUpperCase();
    const path = req.getUrl();
    const query = new URLSearchParams(req.getQuery() ?? '');
    const headers = readHeaders(req);
    const remoteAddress = Buffer.from(res.getRemoteAddressAsText()).toString();
    const controller = new AbortController();
    let done = false;
    res.onAborted(() => {
      done = true;
      controller.abort();
    });

    const respond = (response: HttpResponse) => {
      if (done) return;
      if ('stream' in response) {
        void stream(response);
        return;
      }
      done = true;
      res.cork(() => {
        res.writeStatus(statusLine(response.status));
        for (const [k, v] of Object.entries(response.headers ?? {})) res.writeHeader(k, v);
        res.end(response.body ?? '');
      });
    };
    const stream = async (response: Extract<HttpResponse, { stream: AsyncIterable<string> }>) => {
      res.cork(() => {
        res.writeStatus(statusLine(response.status));
        for (const [k, v] of Object.entries(response.headers ?? {})) res.writeHeader(k, v);
      });
      try {
        for await (const chunk of response.stream) {
          if (done) break;
          res.cork(() => res.write(chunk));
        }
      } finally {
        if (!done) {
          done = true;
          res.cork(() => res.end());
        }
      }
    };
    const handle = (body: Buffer) => {
      handlers
        .http({ method, path, query, headers, body, remoteAddress, signal: controller.signal })
        .then(respond, () => respond({ status: 500, body: errorBody('internal', 'internal error') }));
    };

    if (!expectsBody(method, headers)) return handle(Buffer.alloc(0));
    const declared = Number(headers['content-length'] ?? 0);
    if (declared > options.maxBodyBytes) {
      done = true;
      res.cork(() =>
        res
          .writeStatus(statusLine(413))
          .writeHeader('content-type', 'application/json')
          .writeHeader('connection', 'close')
          .end(errorBody('too_large', `body exceeds ${options.maxBodyBytes} bytes`), true),
      );
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    res.onData((chunk, isLast) => {
      if (done) return;
      size += chunk.byteLength;
      if (size > options.maxBodyBytes) {
        done = true;
        res.cork(() =>
          res
            .writeStatus(statusLine(413))
            .writeHeader('content-type', 'application/json')
            .end(errorBody('too_large', `body exceeds ${options.maxBodyBytes} bytes`), true),
        );
        return;
      }
      chunks.push(Buffer.from(chunk.slice(0)));
      if (isLast) handle(Buffer.concat(chunks));
    });
  });

  return {
    name: 'uws',
    listen(host, port) {
      return new Promise((resolve, reject) => {
        // Exclusive: without it uWS sets SO_REUSEPORT and a second gateway on the same port would
        // silently share it instead of failing.
        const listen = app.listen as unknown as (h: string, p: number, o: number, cb: (s: uWS.us_listen_socket | false) => void) => void;
        listen.call(app, host, port, uWS.ListenOptions?.LIBUS_LISTEN_EXCLUSIVE_PORT ?? 1, (socket) => {
          if (!socket) return reject(new Error(`uws: cannot listen on ${host}:${port}`));
          listenSocket = socket;
          resolve(uWS.us_socket_local_port(socket));
        });
      });
    },
    publish(topic, message) {
      app.publish(topic, message, false, false);
    },
    async close() {
      if (listenSocket) uWS.us_listen_socket_close(listenSocket);
      listenSocket = null;
    },
  };
}
