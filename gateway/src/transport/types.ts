/** An HTTP request, fully read, as the gateway core sees it. */
export interface HttpRequest {
  method: string;
  /** Path without the query string. */
  path: string;
  query: URLSearchParams;
  /** Lower-case header names. */
  headers: Record<string, string>;
  body: Buffer;
  remoteAddress: string;
  /** Aborted when the client goes away. */
  signal: AbortSignal;
}

/** A complete response, or a streamed one (server-sent events). */
export type HttpResponse =
  | { status: number; headers?: Record<string, string>; body?: string | Buffer }
  | { status: number; headers?: Record<string, string>; stream: AsyncIterable<string> };

export type HttpHandler = (req: HttpRequest) => Promise<HttpResponse>;

/** What the core learns about an upgrade request before accepting it. */
export interface UpgradeRequest {
  path: string;
  query: URLSearchParams;
  headers: Record<string, string>;
  remoteAddress: string;
}

/** The core's answer to an upgrade: accept with per-socket data, or refuse with an HTTP status. */
export type UpgradeDecision<D> = { accept: true; data: D } | { accept: false; status: number; message: string };

/** Send outcome, as uWS reports it. */
export const SendStatus = { ok: 'ok', backpressure: 'backpressure', dropped: 'dropped' } as const;
export type SendStatus = (typeof SendStatus)[keyof typeof SendStatus];

/** One socket, whatever the library underneath. */
export interface Socket<D> {
  readonly data: D;
  send(message: string): SendStatus;
  /** Bytes queued and not yet written. */
  bufferedAmount(): number;
  close(code: number, reason?: string): void;
  subscribe(topic: string): void;
  unsubscribe(topic: string): void;
  readonly closed: boolean;
}

/** Callbacks from a transport into the gateway core. */
export interface TransportHandlers<D> {
  http: HttpHandler;
  /** Paths on which upgrades are accepted (others answer 404). */
  wsPath: string;
  upgrade(req: UpgradeRequest): Promise<UpgradeDecision<D>>;
  open(socket: Socket<D>): void;
  message(socket: Socket<D>, message: string | null, bytes: number): void;
  close(socket: Socket<D>, code: number): void;
}

/** Options every transport honours. */
export interface TransportOptions {
  /** Largest inbound frame; larger ones close the socket with 1009. */
  maxFrameBytes: number;
  /** Largest HTTP body; larger ones answer 413. */
  maxBodyBytes: number;
  /** Bytes of unsent data after which a socket is a slow consumer. */
  maxBackpressureBytes: number;
  /** Seconds without traffic before a socket is dropped (pings keep it alive). */
  idleTimeoutSec: number;
}

/** A socket/HTTP server the gateway core drives. */
export interface Transport<D> {
  readonly name: 'uws' | 'ws';
  /** Starts listening; resolves with the bound port. */
  listen(host: string, port: number): Promise<number>;
  /** Sends one serialized message to every socket subscribed to `topic`. */
  publish(topic: string, message: string): void;
  /** Stops accepting and closes the listen socket (open sockets are closed by the core). */
  close(): Promise<void>;
}
