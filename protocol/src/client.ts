import { SUBPROTOCOL } from './codes.js';
import { encodeFrame, parseServerFrame } from './codec.js';
import type {
  ClientFrame,
  DoneFrame,
  ErrorFrame,
  GoawayFrame,
  JoinedFrame,
  ReadyFrame,
  SendFrame,
  ServerFrame,
  SessionFrame,
} from './frames.js';
import { isSessionFrame } from './frames.js';

/** The part of the WebSocket API the client needs (browser `WebSocket` and `ws` both fit). */
export interface WebSocketLike {
  readonly readyState: number;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}
export type WebSocketConstructor = new (url: string, protocols?: string | string[]) => WebSocketLike;

/** Options of {@link SwitchboardClient}. */
export interface ClientOptions {
  /** Socket URL, e.g. `ws://localhost:8080/v1/ws`. */
  url: string;
  /** Access token sent in `hello`, or a function returning a fresh one (called on every (re)connect). */
  token?: string | (() => string | Promise<string>);
  /** WebSocket implementation. @default globalThis.WebSocket */
  WebSocket?: WebSocketConstructor;
  /** Reconnect with the resume token after an unexpected close. @default true */
  reconnect?: boolean;
  /** First reconnect delay; doubles per attempt, with jitter. @default 250 */
  reconnectBaseMs?: number;
  /** Longest reconnect delay. @default 10000 */
  reconnectMaxMs?: number;
  /** Give up after this many failed reconnects in a row. @default 20 */
  maxReconnectAttempts?: number;
  /** Called when the server could not replay what this client missed (fetch history over HTTP). */
  onGap?: (sessionId: string, lastSeq: number) => void;
  /** Client name sent in `hello`. */
  clientName?: string;
}

/** A run started by {@link SwitchboardClient.send}. */
export interface RunHandle {
  /** The client message id (idempotency key). */
  readonly id: string;
  /** Resolves to the run id once the server acknowledged the send. */
  readonly runId: Promise<string>;
  /** Resolves with the run's `done` frame. */
  readonly done: Promise<DoneFrame>;
  /** The run's session frames, in `seq` order, ending with `done`. */
  [Symbol.asyncIterator](): AsyncIterator<SessionFrame>;
  /** Asks the server to cancel the run. */
  cancel(): Promise<void>;
}

type Listener = (frame: ServerFrame) => void;

/** A client error carrying the server's `error` frame, when there was one. */
export class SwitchboardError extends Error {
  override name = 'SwitchboardError';
  constructor(
    message: string,
    readonly code: string,
    readonly frame?: ErrorFrame,
    readonly closeCode?: number,
  ) {
    super(message);
  }
}

interface Pending<T> {
  resolve(v: T): void;
  reject(e: Error): void;
}

class RunStream implements RunHandle {
  readonly runId: Promise<string>;
  readonly done: Promise<DoneFrame>;
  private resolveRunId!: (id: string) => void;
  private rejectRunId!: (e: Error) => void;
  private resolveDone!: (f: DoneFrame) => void;
  private rejectDone!: (e: Error) => void;
  private queue: SessionFrame[] = [];
  private waiter: Pending<IteratorResult<SessionFrame>> | null = null;
  private finished = false;
  private failure: Error | null = null;
  knownRunId: string | undefined;
  get id(): string {
    return this.frame.id;
  }

  constructor(
    readonly frame: SendFrame,
    private readonly onCancel: (runId: string) => Promise<void>,
  ) {
    this.runId = new Promise((res, rej) => ((this.resolveRunId = res), (this.rejectRunId = rej)));
    this.done = new Promise((res, rej) => ((this.resolveDone = res), (this.rejectDone = rej)));
    this.runId.catch(() => {});
    this.done.catch(() => {});
  }

  acked(runId: string): void {
    this.knownRunId = runId;
    this.resolveRunId(runId);
  }

  push(frame: SessionFrame): void {
    if (this.finished) return;
    if (frame.type === 'done') {
      this.finished = true;
      this.resolveDone(frame);
    }
    if (this.waiter) {
      this.waiter.resolve({ value: frame, done: false });
      this.waiter = null;
    } else this.queue.push(frame);
  }

  fail(error: Error): void {
    if (this.finished) return;
    this.finished = true;
    this.failure = error;
    this.rejectRunId(error);
    this.rejectDone(error);
    if (this.waiter) {
      this.waiter.reject(error);
      this.waiter = null;
    }
  }

  get ended(): boolean {
    return this.finished;
  }

  async cancel(): Promise<void> {
    await this.onCancel(await this.runId);
  }

  [Symbol.asyncIterator](): AsyncIterator<SessionFrame> {
    return {
      next: () => {
        const frame = this.queue.shift();
        if (frame) return Promise.resolve({ value: frame, done: false });
        if (this.failure) return Promise.reject(this.failure);
        if (this.finished) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve, reject) => (this.waiter = { resolve, reject }));
      },
    };
  }
}

let idCounter = 0;
function newId(): string {
  const c = globalThis.crypto;
  if (c?.randomUUID) return c.randomUUID();
  return `m-${Date.now().toString(36)}-${(idCounter++).toString(36)}-${Math.random().toString(36).slice(2)}`;
}

/**
 * A typed Switchboard client for browsers and Node. Tracks the highest `seq` per session,
 * reconnects with the resume token after a drop, and drops duplicate frames by `seq`.
 * @example
 * const client = new SwitchboardClient({ url: 'ws://localhost:8080/v1/ws', token });
 * await client.connect();
 * const run = client.send({ sessionId, text: 'What is 12*(3+4)?' });
 * for await (const frame of run) if (frame.type === 'token') process.stdout.write(frame.text);
 */
export class SwitchboardClient {
  private ws: WebSocketLike | null = null;
  private readonly opts: Required<Pick<ClientOptions, 'reconnect' | 'reconnectBaseMs' | 'reconnectMaxMs' | 'maxReconnectAttempts'>> &
    ClientOptions;
  private readonly seqs = new Map<string, number>();
  private readonly joined = new Set<string>();
  private readonly runsById = new Map<string, RunStream>();
  private readonly runsByRunId = new Map<string, RunStream>();
  private readonly joinWaiters = new Map<string, Pending<JoinedFrame>>();
  private readonly listeners = new Set<Listener>();
  private readyWaiter: Pending<ReadyFrame> | null = null;
  private resumeToken: string | null = null;
  private closedByUser = false;
  private attempts = 0;
  private reconnectTimer: ReturnType<typeof setTimeout> | null = null;
  /** The last `ready` frame. */
  ready: ReadyFrame | null = null;
  /** Frames dropped as duplicates (already seen `seq`). */
  duplicatesDropped = 0;

  constructor(options: ClientOptions) {
    this.opts = { reconnect: true, reconnectBaseMs: 250, reconnectMaxMs: 10_000, maxReconnectAttempts: 20, ...options };
  }

  /** Opens the socket and authenticates; resolves with the `ready` frame. */
  connect(): Promise<ReadyFrame> {
    this.closedByUser = false;
    return this.open(false);
  }

  /** Registers a listener for every server frame; returns a function that removes it. */
  onFrame(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The highest `seq` seen for a session (0 when none). */
  lastSeq(sessionId: string): number {
    return this.seqs.get(sessionId) ?? 0;
  }

  /** Attaches to a session, replaying frames after `after` (default: the last seen `seq`). */
  join(sessionId: string, after: number = this.lastSeq(sessionId)): Promise<JoinedFrame> {
    const waiter = new Promise<JoinedFrame>((resolve, reject) => this.joinWaiters.set(sessionId, { resolve, reject }));
    this.joined.add(sessionId);
    if (!this.seqs.has(sessionId)) this.seqs.set(sessionId, after);
    this.write({ type: 'join', sessionId, after });
    return waiter;
  }

  /** Detaches from a session. */
  leave(sessionId: string): void {
    this.joined.delete(sessionId);
    this.write({ type: 'leave', sessionId });
  }

  /** Starts a run; iterate the handle for its frames. */
  send(input: { sessionId: string; text: string; id?: string; ifBusy?: SendFrame['ifBusy'] }): RunHandle {
    const id = input.id ?? newId();
    const frame: SendFrame = { type: 'send', id, sessionId: input.sessionId, text: input.text, ifBusy: input.ifBusy };
    const run = new RunStream(frame, (runId) => this.cancel(input.sessionId, runId));
    this.runsById.set(id, run);
    this.joined.add(input.sessionId);
    this.write(frame);
    void run.done.then(
      () => this.forget(run),
      () => this.forget(run),
    );
    return run;
  }

  /** Cancels a run. */
  async cancel(sessionId: string, runId: string): Promise<void> {
    this.write({ type: 'cancel', sessionId, runId });
  }

  /** Sends an app-level ping. */
  ping(): void {
    this.write({ type: 'ping', t: Date.now() });
  }

  /** Closes the socket for good (no reconnect). */
  close(code = 1000): void {
    this.closedByUser = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.ws?.close(code);
    this.ws = null;
  }

  /** Drops the socket as a network failure would, to exercise reconnect (tests, load scenarios). */
  dropConnection(): void {
    const ws = this.ws as (WebSocketLike & { terminate?: () => void }) | null;
    if (ws?.terminate) ws.terminate();
    else ws?.close(4000, 'dropped');
  }

  private bindRun(id: string, runId: string): void {
    const run = this.runsById.get(id);
    if (run && !run.knownRunId) {
      run.acked(runId);
      this.runsByRunId.set(runId, run);
    }
  }

  private forget(run: RunStream): void {
    this.runsById.delete(run.id);
    if (run.knownRunId) this.runsByRunId.delete(run.knownRunId);
  }

  private write(frame: ClientFrame): void {
    const ws = this.ws;
    if (ws && ws.readyState === 1) ws.send(encodeFrame(frame));
    // Otherwise the frame is re-established on reconnect: joins are replayed from `joined`,
    // and sends are retried by id (idempotent) in `onReady`.
  }

  private async open(resuming: boolean): Promise<ReadyFrame> {
    const Impl = this.opts.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
    if (!Impl) throw new Error('no WebSocket implementation: pass options.WebSocket');
    const token = typeof this.opts.token === 'function' ? await this.opts.token() : this.opts.token;
    const ws = new Impl(this.opts.url, SUBPROTOCOL);
    this.ws = ws;
    const ready = new Promise<ReadyFrame>((resolve, reject) => (this.readyWaiter = { resolve, reject }));
    ws.onopen = () => {
      const after: Record<string, number> = {};
      for (const s of this.joined) after[s] = this.lastSeq(s);
      const resume = resuming && this.resumeToken ? { token: this.resumeToken, after } : undefined;
      ws.send(encodeFrame({ type: 'hello', token, resume, client: { name: this.opts.clientName ?? 'switchboard-client' } }));
    };
    ws.onmessage = (ev) => this.onMessage(typeof ev.data === 'string' ? ev.data : String(ev.data));
    ws.onerror = () => {};
    ws.onclose = (ev) => this.onClose(ws, ev.code, ev.reason);
    return ready;
  }

  private onMessage(raw: string): void {
    const parsed = parseServerFrame(raw);
    if (!parsed.ok) return;
    const frame = parsed.frame;
    if (isSessionFrame(frame)) {
      const last = this.lastSeq(frame.sessionId);
      if (frame.seq <= last) {
        this.duplicatesDropped++;
        return;
      }
      this.seqs.set(frame.sessionId, frame.seq);
      // A replay after a reconnect can bring a run's frames before the repeated `ack`: the `user`
      // frame carries our message id, so it binds the run as well as an ack would.
      if (frame.type === 'user' && !this.runsByRunId.has(frame.runId)) this.bindRun(frame.id, frame.runId);
      const run = this.runsByRunId.get(frame.runId);
      run?.push(frame);
    }
    switch (frame.type) {
      case 'ready':
        this.onReady(frame);
        break;
      case 'joined': {
        if (frame.gap) this.opts.onGap?.(frame.sessionId, this.lastSeq(frame.sessionId));
        if (!this.seqs.has(frame.sessionId) || frame.gap) this.seqs.set(frame.sessionId, Math.max(this.lastSeq(frame.sessionId), frame.gap ? frame.seq : 0));
        const w = this.joinWaiters.get(frame.sessionId);
        this.joinWaiters.delete(frame.sessionId);
        w?.resolve(frame);
        break;
      }
      case 'ack':
        this.bindRun(frame.id, frame.runId);
        break;
      case 'error':
        this.onError(frame);
        break;
      case 'goaway':
        this.onGoaway(frame);
        break;
    }
    for (const l of this.listeners) l(frame);
  }

  private onReady(frame: ReadyFrame): void {
    this.ready = frame;
    this.resumeToken = frame.resume;
    this.attempts = 0;
    const w = this.readyWaiter;
    this.readyWaiter = null;
    w?.resolve(frame);
    if (!frame.resumed) {
      // A fresh connection: re-attach to the sessions we were on.
      for (const s of this.joined) this.write({ type: 'join', sessionId: s, after: this.lastSeq(s) });
    }
    // Sends that never got an ack are retried; the server de-duplicates by id.
    for (const run of this.runsById.values()) {
      if (!run.knownRunId && !run.ended) this.write(run.frame);
    }
  }

  private onError(frame: ErrorFrame): void {
    if (frame.code === 'resume_expired') {
      this.resumeToken = null;
      return;
    }
    if (frame.ref) {
      const run = this.runsById.get(frame.ref);
      if (run && !run.knownRunId) run.fail(new SwitchboardError(frame.message, frame.code, frame));
    }
    if (frame.sessionId && frame.code !== 'rate_limited') {
      const w = this.joinWaiters.get(frame.sessionId);
      if (w && !frame.ref) {
        this.joinWaiters.delete(frame.sessionId);
        this.joined.delete(frame.sessionId);
        w.reject(new SwitchboardError(frame.message, frame.code, frame));
      }
    }
  }

  private onGoaway(frame: GoawayFrame): void {
    // Reconnect elsewhere right away; the server closes this socket with 1012 after draining.
    const ws = this.ws;
    setTimeout(() => {
      if (this.ws === ws) ws?.close(1000, 'goaway');
    }, frame.reconnectInMs);
  }

  private onClose(ws: WebSocketLike, code: number, reason: string): void {
    if (this.ws !== ws) return;
    this.ws = null;
    const fatal = code === 4001 || code === 4003 || code === 1009 || code === 4002;
    const error = new SwitchboardError(`socket closed (${code}${reason ? `: ${reason}` : ''})`, 'closed', undefined, code);
    if (this.readyWaiter && (fatal || !this.opts.reconnect || this.attempts >= this.opts.maxReconnectAttempts)) {
      this.readyWaiter.reject(error);
      this.readyWaiter = null;
    }
    if (this.closedByUser || fatal || !this.opts.reconnect || this.attempts >= this.opts.maxReconnectAttempts) {
      for (const run of this.runsById.values()) run.fail(error);
      for (const w of this.joinWaiters.values()) w.reject(error);
      this.joinWaiters.clear();
      return;
    }
    const delay = Math.min(this.opts.reconnectMaxMs, this.opts.reconnectBaseMs * 2 ** this.attempts);
    this.attempts++;
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      const pendingReady = this.readyWaiter;
      this.open(true).then(
        (r) => pendingReady?.resolve(r),
        () => {},
      );
    }, delay / 2 + Math.random() * (delay / 2));
  }
}
