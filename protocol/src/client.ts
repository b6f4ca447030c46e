import { CloseCode, SUBPROTOCOL } from './codes.js';
import { Emitter } from './emitter.js';
import { SwitchboardError } from './errors.js';
import type { ClientFrame, ErrorFrame, GoawayFrame, JoinedFrame, ReadyFrame, SendFrame, ServerFrame } from './frames.js';
import { isSessionFrame, readServerFrame } from './guard.js';
import { RunStream, type RunHandle } from './run-stream.js';
import { browserStorage, isResumePoint, readJson, writeJson, type ResumePoint, type StorageLike } from './storage.js';
import { DEFAULT_TEXT_LIMITS, textProblem, utf8Length, type TextLimits } from './text-limits.js';

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

/** `connecting` (first connect), `connected` (authenticated), `reconnecting` (after a drop), `disconnected`. */
export type ConnectionState = 'connecting' | 'connected' | 'reconnecting' | 'disconnected';

/**
 * Returns an access token. `reason` is `expired` when the server refused the previous one as
 * expired: return a fresh one (for example from {@link createAuth}'s `getAccessToken`).
 */
export type TokenProvider = (context: { reason: 'connect' | 'expired' }) => string | Promise<string>;

/** Options of {@link SwitchboardClient}. */
export interface ClientOptions {
  /** Socket URL, e.g. `ws://localhost:8080/v1/ws`. */
  url: string;
  /** Access token sent in `hello`, or a function returning a fresh one (called on every (re)connect, and again when the server says the token expired). */
  token?: string | TokenProvider;
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
  /** Where `{sessionId, lastSeq}` is kept across page reloads; `null` keeps nothing. @default localStorage in browsers, else null */
  storage?: StorageLike | null;
  /** Prefix of the storage keys. @default 'switchboard' */
  storageKey?: string;
  /** Ping every `heartbeatMs` of `ready` and drop a socket that stayed silent for twice that. @default true */
  heartbeat?: boolean;
  /** In browsers, drop the socket on `offline` and reconnect at once on `online`. @default true */
  networkEvents?: boolean;
}

/** Events of {@link SwitchboardClient}; subscribe with `client.on(event, listener)`. */
export interface ClientEvents {
  /** The connection state changed; `error` says why when it became `reconnecting` or `disconnected`. */
  state: (state: ConnectionState, detail: { error?: SwitchboardError; attempt: number }) => void;
  /** Every server frame, after duplicates were dropped. */
  frame: (frame: ServerFrame) => void;
  /** A run appeared in a joined session: one this client started, or one started on another device or tab. */
  run: (run: RunHandle) => void;
  /** An error not tied to a pending call (an `error` frame for a session, a failed connection). */
  error: (error: SwitchboardError) => void;
  /** The server could not replay what this client missed in a session (fetch history over HTTP). */
  gap: (sessionId: string, lastSeq: number) => void;
}

/** One joined session as seen by the client. */
export interface SessionHandle {
  readonly id: string;
  /** The run that is streaming in this session now (started here or elsewhere), or `null`. */
  readonly activeRun: RunHandle | null;
  /** The highest `seq` seen. */
  readonly lastSeq: number;
  join(after?: number): Promise<JoinedFrame>;
  leave(): void;
  send(text: string, options?: { id?: string; ifBusy?: SendFrame['ifBusy'] }): RunHandle;
  /** Listens for runs of this session. */
  onRun(listener: (run: RunHandle) => void): () => void;
}

interface Pending<T> {
  resolve(v: T): void;
  reject(e: Error): void;
}

const defaults = {
  reconnect: true,
  reconnectBaseMs: 250,
  reconnectMaxMs: 10_000,
  maxReconnectAttempts: 20,
  storageKey: 'switchboard',
  heartbeat: true,
  networkEvents: true,
} satisfies Partial<ClientOptions>;
type Resolved = ClientOptions & { [K in keyof typeof defaults]-?: NonNullable<ClientOptions[K]> };

/** Close codes after which reconnecting cannot help (4001 is retried once with a fresh token). */
const FATAL_CLOSE: ReadonlySet<number> = new Set([CloseCode.unauthorized, CloseCode.protocolAbuse, CloseCode.forbidden]);
const SEQ_SAVE_MS = 250;

let idCounter = 0;
function newId(): string {
  const c = globalThis.crypto;
  if (c?.randomUUID) return c.randomUUID();
  return `m-${Date.now().toString(36)}-${(idCounter++).toString(36)}-${Math.random().toString(36).slice(2)}`;
}

type Timer = ReturnType<typeof setTimeout>;
const unref = (t: Timer): Timer => ((t as { unref?: () => void }).unref?.(), t);

/**
 * A typed Switchboard client for browsers and Node. Tracks the highest `seq` per session,
 * reconnects with the resume token after a drop (refreshing an expired access token through a
 * token function), drops duplicate frames by `seq`, exposes the connection state, follows runs
 * started on other devices and checks message size before sending.
 * @example
 * const client = new SwitchboardClient({ url: 'ws://localhost:8080/v1/ws', token });
 * client.on('state', (s) => console.log(s));
 * await client.connect();
 * const run = client.send({ sessionId, text: 'What is 12*(3+4)?' });
 * for await (const frame of run) if (frame.type === 'token') process.stdout.write(frame.text);
 */
export class SwitchboardClient extends Emitter<ClientEvents> {
  private ws: WebSocketLike | null = null;
  private readonly opts: Resolved;
  /** Where this client keeps resume points (`options.storage`); chat stores default to it too. */
  readonly storage: StorageLike | null;
  private readonly seqs = new Map<string, number>();
  /** The epoch of each session's log, as the last `joined` said: the `seq`s above belong to it. */
  private readonly epochs = new Map<string, string>();
  private readonly joined = new Set<string>();
  private readonly runsById = new Map<string, RunStream>();
  private readonly runsByRunId = new Map<string, RunStream>();
  private readonly active = new Map<string, RunStream>();
  private readonly sessions = new Map<string, SessionHandle>();
  private readonly joinWaiters = new Map<string, Array<Pending<JoinedFrame>>>();
  /** Sessions named in the last `hello{resume}`: the server re-joins them itself. */
  private helloSessions = new Set<string>();
  private connectWaiter: Pending<ReadyFrame> | null = null;
  private connecting: Promise<ReadyFrame> | null = null;
  private resumeToken: string | null = null;
  private closedByUser = true;
  private attempts = 0;
  private generation = 0;
  private currentState: ConnectionState = 'disconnected';
  private reconnectTimer: Timer | null = null;
  private heartbeatTimer: ReturnType<typeof setInterval> | null = null;
  private lastInbound = 0;
  private tokenExpired = false;
  private refreshedForExpiry = false;
  private lastAuthError: ErrorFrame | null = null;
  private dirtySeqs = new Set<string>();
  private seqTimer: Timer | null = null;
  private removeNetworkListeners: (() => void) | null = null;
  /** The last `ready` frame. */
  ready: ReadyFrame | null = null;
  /** Frames dropped as duplicates (already seen `seq`). */
  duplicatesDropped = 0;

  constructor(options: ClientOptions) {
    super();
    this.opts = { ...defaults, ...options };
    this.storage = options.storage === undefined ? browserStorage() : options.storage;
  }

  /** The connection state. */
  get state(): ConnectionState {
    return this.currentState;
  }

  /** The server's text limits (from `ready`; the protocol defaults before it). */
  get limits(): TextLimits {
    return this.ready?.limits ?? DEFAULT_TEXT_LIMITS;
  }

  /** Opens the socket and authenticates; resolves with the `ready` frame. Calling it while connecting returns the same promise. */
  connect(): Promise<ReadyFrame> {
    if (this.currentState === 'connected' && this.ready) return Promise.resolve(this.ready);
    if (this.connecting) return this.connecting;
    this.connecting = new Promise<ReadyFrame>((resolve, reject) => (this.connectWaiter = { resolve, reject }));
    this.connecting.catch(() => {});
    const p = this.connecting;
    if (this.currentState === 'reconnecting') {
      // Already on it: try now instead of waiting for the backoff timer.
      if (this.reconnectTimer) {
        clearTimeout(this.reconnectTimer);
        this.reconnectTimer = null;
        void this.open();
      }
      return p;
    }
    this.closedByUser = false;
    this.attempts = 0;
    this.listenToNetwork();
    this.setState('connecting', {});
    void this.open();
    return p;
  }

  /** Registers a listener for every server frame; returns a function that removes it. */
  onFrame(listener: (frame: ServerFrame) => void): () => void {
    return this.on('frame', listener);
  }

  /** The highest `seq` seen for a session (0 when none). */
  lastSeq(sessionId: string): number {
    return this.seqs.get(sessionId) ?? 0;
  }

  /** The `{sessionId, lastSeq}` persisted in storage by an earlier page or process, if any. */
  savedResumePoint(sessionId: string): ResumePoint | null {
    const p = readJson(this.storage, this.seqKey(sessionId), isResumePoint);
    return p?.sessionId === sessionId ? p : null;
  }

  /** Attaches to a session, replaying frames after `after` (default: the last seen `seq`). */
  join(sessionId: string, after: number = this.lastSeq(sessionId)): Promise<JoinedFrame> {
    const waiter = new Promise<JoinedFrame>((resolve, reject) => {
      const list = this.joinWaiters.get(sessionId) ?? [];
      list.push({ resolve, reject });
      this.joinWaiters.set(sessionId, list);
    });
    this.joined.add(sessionId);
    if (!this.seqs.has(sessionId)) this.seqs.set(sessionId, after);
    this.write(this.joinFrame(sessionId, after));
    return waiter;
  }

  /** Joins a session from the persisted `{sessionId, lastSeq}` (after a page reload), or from `fallback` when none is saved. */
  resume(sessionId: string, fallback = 0): Promise<JoinedFrame> {
    return this.join(sessionId, this.seqs.get(sessionId) ?? this.savedResumePoint(sessionId)?.lastSeq ?? fallback);
  }

  /** Detaches from a session. */
  leave(sessionId: string): void {
    this.joined.delete(sessionId);
    this.write({ type: 'leave', sessionId });
  }

  /** A handle on one session: its active run, its runs, join/leave/send. */
  session(sessionId: string): SessionHandle {
    let s = this.sessions.get(sessionId);
    if (s) return s;
    const client = this;
    s = {
      id: sessionId,
      get activeRun() {
        return client.activeRun(sessionId);
      },
      get lastSeq() {
        return client.lastSeq(sessionId);
      },
      join: (after) => this.join(sessionId, after),
      leave: () => this.leave(sessionId),
      send: (text, o) => this.send({ sessionId, text, ...o }),
      onRun: (listener) => this.on('run', (run) => run.sessionId === sessionId && listener(run)),
    };
    this.sessions.set(sessionId, s);
    return s;
  }

  /** The run streaming in a session now (started by this client or elsewhere), or `null`. */
  activeRun(sessionId: string): RunHandle | null {
    return this.active.get(sessionId) ?? null;
  }

  /**
   * Starts a run; iterate the handle for its frames. Throws a {@link SwitchboardError} with code
   * `too_large` (or `bad_frame` for an empty text) before anything is sent when the text breaks
   * the server's limits.
   */
  send(input: { sessionId: string; text: string; id?: string; ifBusy?: SendFrame['ifBusy'] }): RunHandle {
    const id = input.id ?? newId();
    const frame: SendFrame = { type: 'send', id, sessionId: input.sessionId, text: input.text, ifBusy: input.ifBusy };
    const encoded = JSON.stringify(frame);
    const problem = textProblem(input.text, this.limits, utf8Length(encoded));
    if (problem) throw new SwitchboardError(problem, input.text.trim() ? 'too_large' : 'bad_frame');
    const run = new RunStream(input.sessionId, frame, (runId) => this.cancel(input.sessionId, runId));
    if (this.currentState === 'disconnected') {
      run.fail(new SwitchboardError('the client is not connected: call connect() first', 'closed'));
      return run;
    }
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
    this.generation++;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    this.flushSeqs();
    this.removeNetworkListeners?.();
    this.removeNetworkListeners = null;
    const ws = this.ws;
    if (ws) {
      this.onClose(ws, code, 'closed by the client');
      ws.close(code);
    } else this.settleDisconnected(new SwitchboardError('the client was closed', 'closed', undefined, code));
  }

  /** Drops the socket as a network failure would, to exercise reconnect (tests, load scenarios). */
  dropConnection(): void {
    const ws = this.ws as (WebSocketLike & { terminate?: () => void }) | null;
    if (ws?.terminate) ws.terminate();
    else ws?.close(4000, 'dropped');
  }

  // ------------------------------------------------------------------ runs

  private bindRun(id: string, runId: string): void {
    const run = this.runsById.get(id);
    if (run && !run.knownRunId) {
      run.acked(runId);
      this.runsByRunId.set(runId, run);
      this.track(run);
    }
  }

  /** A run this client did not start (another device, another tab, or one that began before a reload). */
  private observe(sessionId: string, runId: string): RunStream {
    const run = new RunStream(sessionId, null, (id) => this.cancel(sessionId, id));
    run.acked(runId);
    this.runsByRunId.set(runId, run);
    void run.done.then(
      () => this.forget(run),
      () => this.forget(run),
    );
    this.track(run);
    return run;
  }

  private track(run: RunStream): void {
    if (run.ended) return;
    this.active.set(run.sessionId, run);
    this.emit('run', run);
  }

  private hasPendingSend(sessionId: string): boolean {
    for (const run of this.runsById.values()) if (run.sessionId === sessionId && !run.knownRunId && !run.ended) return true;
    return false;
  }

  private forget(run: RunStream): void {
    if (run.frame) this.runsById.delete(run.id);
    if (run.knownRunId && this.runsByRunId.get(run.knownRunId) === run) this.runsByRunId.delete(run.knownRunId);
    if (this.active.get(run.sessionId) === run) this.active.delete(run.sessionId);
  }

  // ------------------------------------------------------------------ socket

  private write(frame: ClientFrame): void {
    const ws = this.ws;
    if (ws && ws.readyState === 1 && this.currentState === 'connected') ws.send(JSON.stringify(frame));
    else if (ws && ws.readyState === 1 && frame.type === 'hello') ws.send(JSON.stringify(frame));
    // Otherwise the frame is re-established on reconnect: joins are replayed from `joined`,
    // and sends are retried by id (idempotent) in `onReady`.
  }

  private setState(state: ConnectionState, detail: { error?: SwitchboardError }): void {
    if (this.currentState === state && !detail.error) return;
    this.currentState = state;
    this.emit('state', state, { ...detail, attempt: this.attempts });
  }

  private async resolveToken(): Promise<string | undefined> {
    const t = this.opts.token;
    if (typeof t !== 'function') return t;
    const reason = this.tokenExpired ? 'expired' : 'connect';
    this.tokenExpired = false;
    return await t({ reason });
  }

  private async open(): Promise<void> {
    const generation = ++this.generation;
    const Impl = this.opts.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
    if (!Impl) return this.settleDisconnected(new SwitchboardError('no WebSocket implementation: pass options.WebSocket', 'closed'));
    let token: string | undefined;
    try {
      token = await this.resolveToken();
    } catch (e) {
      if (generation !== this.generation || this.closedByUser) return;
      const error = e instanceof SwitchboardError ? e : new SwitchboardError(`could not get an access token: ${String(e)}`, 'unauthorized', undefined, undefined, { cause: e });
      this.emit('error', error);
      // A refresh refused by the server ends the session; a network failure is retried.
      if (error.code === 'unauthorized' && !error.retryable) return this.settleDisconnected(error);
      return this.scheduleReconnect(error);
    }
    if (generation !== this.generation || this.closedByUser) return;
    const stale = this.ws;
    if (stale) {
      // A socket still opening from an earlier attempt: only one socket per client.
      this.ws = null;
      stale.onclose = null;
      stale.onmessage = null;
      try {
        stale.close(1000, 'replaced');
      } catch {
        /* not open yet */
      }
    }
    let ws: WebSocketLike;
    try {
      ws = new Impl(this.opts.url, SUBPROTOCOL);
    } catch (e) {
      return this.settleDisconnected(new SwitchboardError(`cannot open ${this.opts.url}: ${String(e)}`, 'closed', undefined, undefined, { cause: e }));
    }
    this.ws = ws;
    this.lastAuthError = null;
    ws.onopen = () => {
      const after: Record<string, number> = {};
      const epochs: Record<string, string> = {};
      for (const s of this.joined) {
        after[s] = this.lastSeq(s);
        const e = this.epochs.get(s);
        if (e) epochs[s] = e;
      }
      const resume = this.resumeToken ? { token: this.resumeToken, after, ...(Object.keys(epochs).length ? { epochs } : {}) } : undefined;
      this.helloSessions = new Set(resume ? this.joined : []);
      this.write({ type: 'hello', token, resume, client: { name: this.opts.clientName ?? 'switchboard-client' } });
    };
    ws.onmessage = (ev) => {
      if (this.ws !== ws) return;
      this.lastInbound = Date.now();
      this.onMessage(typeof ev.data === 'string' ? ev.data : String(ev.data));
    };
    ws.onerror = () => {};
    ws.onclose = (ev) => this.onClose(ws, ev.code, ev.reason);
  }

  /** Gives up on a socket at once (a browser may take a minute to report a dead socket closed). */
  private abandon(ws: WebSocketLike, reason: string): void {
    this.onClose(ws, 4000, reason);
    ws.onmessage = null;
    ws.onclose = null;
    const t = ws as WebSocketLike & { terminate?: () => void };
    try {
      if (t.terminate) t.terminate();
      else ws.close(4000, reason);
    } catch {
      /* already closed */
    }
  }

  private startHeartbeat(heartbeatMs: number): void {
    this.stopHeartbeat();
    if (!this.opts.heartbeat || heartbeatMs <= 0) return;
    const ws = this.ws;
    this.heartbeatTimer = setInterval(() => {
      if (!ws || this.ws !== ws) return this.stopHeartbeat();
      if (Date.now() - this.lastInbound > 2 * heartbeatMs) return this.abandon(ws, 'no frame from the server within two heartbeats');
      this.ping();
    }, heartbeatMs);
    (this.heartbeatTimer as { unref?: () => void }).unref?.();
  }

  private stopHeartbeat(): void {
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = null;
  }

  private listenToNetwork(): void {
    const g = globalThis as { addEventListener?: (t: string, l: () => void) => void; removeEventListener?: (t: string, l: () => void) => void };
    if (!this.opts.networkEvents || this.removeNetworkListeners || typeof g.addEventListener !== 'function' || !('navigator' in globalThis)) return;
    const offline = () => {
      if (this.ws) this.abandon(this.ws, 'the browser went offline');
    };
    const online = () => {
      if (this.closedByUser || this.ws || this.currentState !== 'reconnecting') return;
      if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
      this.reconnectTimer = null;
      void this.open();
    };
    const pagehide = () => this.flushSeqs();
    g.addEventListener('offline', offline);
    g.addEventListener('online', online);
    g.addEventListener('pagehide', pagehide);
    this.removeNetworkListeners = () => {
      g.removeEventListener?.('offline', offline);
      g.removeEventListener?.('online', online);
      g.removeEventListener?.('pagehide', pagehide);
    };
  }

  // ------------------------------------------------------------------ inbound

  private onMessage(raw: string): void {
    const frame = readServerFrame(raw);
    if (!frame) return;
    if (isSessionFrame(frame)) {
      const last = this.lastSeq(frame.sessionId);
      if (frame.seq <= last) {
        this.duplicatesDropped++;
        return;
      }
      this.seqs.set(frame.sessionId, frame.seq);
      this.markSeq(frame.sessionId, frame.type === 'done');
      // A replay after a reconnect can bring a run's frames before the repeated `ack`: the `user`
      // frame carries our message id, so it binds the run as well as an ack would.
      if (frame.type === 'user' && !this.runsByRunId.has(frame.runId)) this.bindRun(frame.id, frame.runId);
      let run = this.runsByRunId.get(frame.runId);
      if (!run && (frame.type === 'user' || !this.hasPendingSend(frame.sessionId))) run = this.observe(frame.sessionId, frame.runId);
      run?.push(frame);
    }
    switch (frame.type) {
      case 'ready':
        this.onReady(frame);
        break;
      case 'joined':
        this.onJoined(frame);
        break;
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
    this.emit('frame', frame);
  }

  private onReady(frame: ReadyFrame): void {
    this.ready = frame;
    this.resumeToken = frame.resume;
    this.attempts = 0;
    this.refreshedForExpiry = false;
    this.setState('connected', {});
    this.startHeartbeat(frame.heartbeatMs);
    const w = this.connectWaiter;
    this.connectWaiter = null;
    this.connecting = null;
    w?.resolve(frame);
    // Re-attach to the sessions we were on, except those the resume already re-joined.
    for (const s of this.joined) {
      if (!frame.resumed || !this.helloSessions.has(s)) this.write(this.joinFrame(s, this.lastSeq(s)));
    }
    // Sends that never got an ack are retried; the server de-duplicates by id.
    for (const run of this.runsById.values()) {
      if (!run.knownRunId && !run.ended && run.frame) this.write(run.frame);
    }
  }

  /** A `join` from `after`, naming the epoch `after` belongs to when known. */
  private joinFrame(sessionId: string, after: number): ClientFrame {
    const epoch = this.epochs.get(sessionId);
    return epoch && after > 0 ? { type: 'join', sessionId, after, epoch } : { type: 'join', sessionId, after };
  }

  private onJoined(frame: JoinedFrame): void {
    const known = this.epochs.get(frame.sessionId);
    if (frame.epoch) this.epochs.set(frame.sessionId, frame.epoch);
    if (frame.gap && frame.epoch && known !== frame.epoch) {
      // The session's log was recreated (or this client never learnt its epoch): the server
      // replays that epoch from its start, and every `seq` in it is new to this client. History
      // up to the loss comes over HTTP (the `gap` event), then these frames, then live.
      this.opts.onGap?.(frame.sessionId, this.lastSeq(frame.sessionId));
      this.emit('gap', frame.sessionId, this.lastSeq(frame.sessionId));
      this.seqs.set(frame.sessionId, 0);
    } else if (frame.gap) {
      this.opts.onGap?.(frame.sessionId, this.lastSeq(frame.sessionId));
      this.emit('gap', frame.sessionId, this.lastSeq(frame.sessionId));
      this.seqs.set(frame.sessionId, Math.max(this.lastSeq(frame.sessionId), frame.seq));
    }
    const id = frame.activeRunId;
    if (id && !this.runsByRunId.has(id) && !this.hasPendingSend(frame.sessionId)) this.observe(frame.sessionId, id);
    const waiters = this.joinWaiters.get(frame.sessionId) ?? [];
    this.joinWaiters.delete(frame.sessionId);
    for (const w of waiters) w.resolve(frame);
  }

  private onError(frame: ErrorFrame): void {
    if (frame.code === 'resume_expired') {
      this.resumeToken = null;
      return;
    }
    if (frame.code === 'unauthorized' && this.currentState !== 'connected') {
      // Comes right before a 4001 close; `onClose` decides whether a fresh token can help.
      this.lastAuthError = frame;
      return;
    }
    const error = new SwitchboardError(frame.message, frame.code, frame);
    let handled = false;
    if (frame.ref) {
      const run = this.runsById.get(frame.ref);
      if (run && !run.knownRunId) {
        run.fail(error);
        handled = true;
      }
    }
    if (frame.sessionId && frame.code !== 'rate_limited') {
      const waiters = this.joinWaiters.get(frame.sessionId);
      if (waiters && !frame.ref) {
        this.joinWaiters.delete(frame.sessionId);
        this.joined.delete(frame.sessionId);
        for (const w of waiters) w.reject(error);
        handled = true;
      }
    }
    if (!handled) this.emit('error', error);
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
    this.stopHeartbeat();
    const authError = this.lastAuthError;
    this.lastAuthError = null;
    const message = authError ? `${authError.message} (close ${code})` : `socket closed (${code}${reason ? `: ${reason}` : ''})`;
    const error = new SwitchboardError(message, authError ? 'unauthorized' : 'closed', authError ?? undefined, code);
    if (this.closedByUser) return this.settleDisconnected(error);
    // An expired access token: get a fresh one from the token function and try once more at once.
    if (code === CloseCode.unauthorized && authError?.retryable && typeof this.opts.token === 'function' && !this.refreshedForExpiry) {
      this.refreshedForExpiry = true;
      this.tokenExpired = true;
      this.resumeToken = null;
      return this.scheduleReconnect(error, 0);
    }
    if (code === CloseCode.tooBig) {
      // The server's frame limit is below what the client checked: fail the unacknowledged sends
      // (one of them was too big) instead of resending them forever, and carry on.
      const tooBig = new SwitchboardError('the server closed the socket because a frame was too large (1009)', 'too_large', undefined, code);
      for (const run of this.runsById.values()) if (!run.knownRunId) run.fail(tooBig);
    }
    if (FATAL_CLOSE.has(code) || !this.opts.reconnect || this.attempts >= this.opts.maxReconnectAttempts) return this.settleDisconnected(error);
    this.scheduleReconnect(error);
  }

  private scheduleReconnect(error: SwitchboardError, delayMs?: number): void {
    if (this.attempts >= this.opts.maxReconnectAttempts) return this.settleDisconnected(error);
    const base = Math.min(this.opts.reconnectMaxMs, this.opts.reconnectBaseMs * 2 ** this.attempts);
    const delay = delayMs ?? base / 2 + Math.random() * (base / 2);
    this.attempts++;
    this.setState(this.connectWaiter && !this.ready ? 'connecting' : 'reconnecting', { error });
    const offline = this.opts.networkEvents && (globalThis as { navigator?: { onLine?: boolean } }).navigator?.onLine === false;
    if (offline && delayMs === undefined) return; // the `online` event reconnects
    this.reconnectTimer = unref(
      setTimeout(() => {
        this.reconnectTimer = null;
        void this.open();
      }, delay),
    );
  }

  /** Ends every pending call and reports `disconnected`. */
  private settleDisconnected(error: SwitchboardError): void {
    this.stopHeartbeat();
    this.closedByUser = true;
    this.removeNetworkListeners?.();
    this.removeNetworkListeners = null;
    for (const run of [...this.runsById.values(), ...this.runsByRunId.values()]) run.fail(error);
    for (const list of this.joinWaiters.values()) for (const w of list) w.reject(error);
    this.joinWaiters.clear();
    const w = this.connectWaiter;
    this.connectWaiter = null;
    this.connecting = null;
    w?.reject(error);
    this.flushSeqs();
    this.setState('disconnected', { error });
  }

  // ------------------------------------------------------------------ persisted resume points

  private seqKey(sessionId: string): string {
    return `${this.opts.storageKey}.seq.${sessionId}`;
  }

  private markSeq(sessionId: string, now: boolean): void {
    if (!this.storage) return;
    this.dirtySeqs.add(sessionId);
    if (now) return this.flushSeqs();
    this.seqTimer ??= unref(setTimeout(() => this.flushSeqs(), SEQ_SAVE_MS));
  }

  private flushSeqs(): void {
    if (this.seqTimer) clearTimeout(this.seqTimer);
    this.seqTimer = null;
    for (const sessionId of this.dirtySeqs) writeJson(this.storage, this.seqKey(sessionId), { sessionId, lastSeq: this.lastSeq(sessionId) });
    this.dirtySeqs.clear();
  }
}

export { SwitchboardError };
export type { RunHandle };
