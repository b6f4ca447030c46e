import { randomUUID } from 'node:crypto';
import {
  CloseCode,
  Limits,
  parseClientFrame,
  type ClientFrame,
  type ErrorFrame,
  type HelloFrame,
  type ServerFrame,
} from '@switchboard/protocol';
import type { Authenticator } from '../auth/authenticator.js';
import type { TokenService } from '../auth/tokens.js';
import type { Limiters } from '../limits/types.js';
import { GatewayError, toErrorFrame, toGatewayError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { RunManager } from '../runs/run-manager.js';
import { NO_CROSS_ORIGIN, socketOriginAllowed, type BrowserPolicy } from '../http/browser-policy.js';
import { addGarbage, newGarbageScore, type GarbageScore } from '../limits/garbage-score.js';
import { securityLog, SecurityEvent } from '../observability/security-log.js';
import type { JoinResult, SessionHub } from '../sessions/hub.js';
import { NO_INSTRUMENTATION, type Instrumentation, type ResumeRegistry } from '../ports.js';
import type { Socket, UpgradeDecision, UpgradeRequest } from '../transport/types.js';

/** Per-socket state. */
export interface ConnData {
  id: string;
  remoteAddress: string;
  userId: string | null;
  /** The sign-in (refresh family) the socket was authenticated by; its resume tokens die with it. */
  loginId: string | null;
  helloDone: boolean;
  /** A `hello` arrived (it may still be being verified); frames pipelined behind it wait their turn. */
  helloSeen: boolean;
  /** The sessions the socket joined (null until the first). */
  joined: Set<string> | null;
  /** Bad frames, decaying with time; valid frames do not reset it (null until the first). */
  garbage: GarbageScore | null;
  /** `hello`s refused before the socket authenticated. */
  failedHellos: number;
  rateRejections: number;
  queue: Promise<void>;
  queued: number;
  timer: ReturnType<typeof setTimeout> | null;
  /** This socket's slot in the per-user socket limit, released when it closes. */
  slot: { release(): Promise<void> } | null;
}

/** The fixed bounds a socket lives under (frame size, timers, bad frames, backpressure). */
export interface SocketBounds {
  maxFrameBytes: number;
  helloTimeoutMs: number;
  heartbeatMs: number;
  maxBadFrames: number;
  maxBackpressureBytes: number;
}

/** How a session's ownership is checked (another user's session is `not_found`). */
export type SessionAccess = (userId: string, sessionId: string) => Promise<boolean>;

export interface ConnectionManagerOptions {
  /** Signs resume tokens. */
  tokens: TokenService;
  /** Checks access and resume tokens (and that their user and sign-in still exist). */
  authn: Authenticator;
  hub: SessionHub;
  runs: RunManager;
  canAccess: SessionAccess;
  bounds: SocketBounds;
  logger: Logger;
  nodeId: string;
  /** Messages per connection, connections per IP, sockets per user. */
  limiters: Limiters;
  /** Where closed connections leave what they were attached to, for `hello{resume}` without `after`. */
  resume: ResumeRegistry;
  /** How long a closed connection's record is kept (the resume token's lifetime). */
  resumeTtlMs: number;
  /** Which browser origins may open sockets (`CORS_ORIGINS` and the gateway's own). @default none but its own */
  browser?: BrowserPolicy;
  /** Sockets, frames in and out, server closes and limiter refusals are reported here. @default NO_INSTRUMENTATION */
  instrumentation?: Instrumentation;
}

const MAX_QUEUED_FRAMES = 64;
/** The queue of a socket with no frame in flight (one promise for all of them). */
const SETTLED: Promise<void> = Promise.resolve();
/** One bad frame is forgiven per this many ms (the garbage score's decay). */
const GARBAGE_DECAY_MS = 5_000;
/** Refused `hello`s after which an unauthenticated socket is closed 4001. */
const MAX_FAILED_HELLOS = 3;
/** Bytes of a `send` frame besides its text (type, ids, JSON quoting), reserved within the frame limit. */
const FRAME_ENVELOPE_BYTES = 1024;

/**
 * The socket protocol: authentication, join/leave with replay, send/cancel, heartbeat and the
 * guards (frame size, bad frames, rate, backpressure). Knows nothing of uWS or ws.
 */
export class ConnectionManager {
  private readonly sockets = new Map<string, Socket<ConnData>>();
  private draining = false;

  private readonly events: Instrumentation;

  constructor(private readonly o: ConnectionManagerOptions) {
    this.events = o.instrumentation ?? NO_INSTRUMENTATION;
  }

  get size(): number {
    return this.sockets.size;
  }

  /** Sends a frame to one connection, if it is here. */
  notify(connectionId: string, frame: ServerFrame): void {
    const s = this.sockets.get(connectionId);
    if (s) this.write(s, frame);
  }

  async upgrade(req: UpgradeRequest): Promise<UpgradeDecision<ConnData>> {
    if (this.draining) return { accept: false, status: 503, message: 'draining' };
    if (!socketOriginAllowed(this.o.browser ?? NO_CROSS_ORIGIN, req.headers.origin, req.headers.host)) {
      securityLog(this.o.logger, SecurityEvent.originRefused, { address: req.remoteAddress, origin: req.headers.origin, surface: 'socket' });
      return { accept: false, status: 403, message: 'this origin may not open sockets (CORS_ORIGINS)' };
    }
    const perIp = await this.o.limiters.connections.consume(req.remoteAddress || 'unknown');
    if (!perIp.ok) return { accept: false, status: 429, message: `too many connections from this address; retry in ${Math.ceil(perIp.retryAfterMs / 1000)} s` };
    const data: ConnData = {
      id: randomUUID(),
      remoteAddress: req.remoteAddress,
      userId: null,
      loginId: null,
      helloDone: false,
      helloSeen: false,
      joined: null,
      garbage: null,
      failedHellos: 0,
      rateRejections: 0,
      queue: SETTLED,
      queued: 0,
      timer: null,
      slot: null,
    };
    const auth = req.headers.authorization;
    if (auth) {
      const m = /^Bearer\s+(\S+)$/i.exec(auth);
      const r = m ? await this.o.authn.access(m[1]!) : null;
      if (!r?.ok) {
        securityLog(this.o.logger, SecurityEvent.tokenRefused, { address: req.remoteAddress, why: r?.why ?? 'invalid', surface: 'socket' });
        return { accept: false, status: 401, message: 'invalid or expired access token' };
      }
      data.userId = r.claims.userId;
      data.loginId = r.claims.loginId ?? null;
    }
    return { accept: true, data };
  }

  open(socket: Socket<ConnData>): void {
    this.events.socketOpened();
    this.sockets.set(socket.data.id, socket);
    socket.data.timer = setTimeout(() => {
      if (!socket.data.helloDone) this.closeWith(socket, CloseCode.unauthorized, 'hello timeout');
    }, this.o.bounds.helloTimeoutMs);
  }

  message(socket: Socket<ConnData>, raw: string | null, bytes: number): void {
    this.events.bytesIn(bytes);
    const c = socket.data;
    if (socket.closed) return;
    if (bytes > this.o.bounds.maxFrameBytes) return this.closeWith(socket, CloseCode.tooBig, 'frame too large');
    if (raw === null) return this.badFrame(socket, 'frames must be UTF-8 JSON text');
    const parsed = parseClientFrame(raw, this.o.bounds.maxFrameBytes);
    if (!parsed.ok) {
      // A text over the limit is no protocol abuse: answer it and keep the socket.
      if (parsed.code === 'too_large') return this.tooLarge(socket, parsed.message, parsed.ref);
      return this.badFrame(socket, parsed.message, parsed.ref);
    }
    const frame = parsed.frame;
    if (frame.type === 'send' && Buffer.byteLength(frame.text) > this.maxTextBytes)
      return this.tooLarge(socket, `text exceeds ${this.maxTextBytes} bytes of UTF-8`, frame.id);
    this.events.frameIn(frame.type);
    if (frame.type === 'hello') c.helloSeen = true;
    else if (!c.helloSeen) return this.closeWith(socket, CloseCode.unauthorized, 'hello must come first');
    if (c.queued >= MAX_QUEUED_FRAMES) return this.closeWith(socket, CloseCode.rateLimited, 'too many frames in flight');
    c.queued++;
    c.queue = c.queue
      .then(() => this.dispatch(socket, frame))
      .catch((e) => this.fail(socket, e, 'id' in frame ? String(frame.id) : undefined, 'sessionId' in frame ? frame.sessionId : undefined))
      .finally(() => {
        // An idle socket holds the shared settled promise, not the end of its last chain.
        if (--c.queued === 0) c.queue = SETTLED;
      });
  }

  close(socket: Socket<ConnData>, code: number): void {
    this.events.socketClosed(code);
    const c = socket.data;
    if (c.timer) clearTimeout(c.timer);
    this.sockets.delete(c.id);
    if (c.helloDone && c.userId && c.joined?.size) {
      const sessions: Record<string, number> = {};
      const epochs: Record<string, string> = {};
      for (const sessionId of c.joined) {
        sessions[sessionId] = this.o.hub.delivered(sessionId);
        epochs[sessionId] = this.o.hub.epoch(sessionId);
      }
      void this.o.resume
        .save(c.id, { userId: c.userId, sessions, epochs }, this.o.resumeTtlMs)
        .catch((e) => this.o.logger.warn('could not record the closed connection', { error: String(e) }));
    }
    if (c.joined) for (const sessionId of c.joined) this.o.hub.leave(sessionId, socket);
    void c.slot?.release().catch(() => {});
    this.o.logger.debug('socket closed', { connectionId: c.id, code });
  }

  /** Tells every socket to go elsewhere, then closes them with 1012 once runs have ended. */
  goaway(reconnectInMs: number): void {
    this.draining = true;
    for (const s of this.sockets.values()) this.write(s, { type: 'goaway', reason: 'draining', reconnectInMs });
  }

  closeAll(code: number, reason: string): void {
    for (const s of [...this.sockets.values()]) s.close(code, reason);
  }

  private async dispatch(socket: Socket<ConnData>, frame: ClientFrame): Promise<void> {
    if (socket.closed) return;
    const c = socket.data;
    if (frame.type !== 'hello' && !c.helloDone) return this.closeWith(socket, CloseCode.unauthorized, 'not authenticated');
    // Every frame counts against the rate, `hello` and `ping` included.
    const d = await this.o.limiters.messages.consume(c.id);
    if (d.ok) c.rateRejections = 0;
    else {
      if (++c.rateRejections > this.o.limiters.config.messageBurst) {
        securityLog(this.o.logger, SecurityEvent.socketAbuse, { limit: 'messages', address: c.remoteAddress, connectionId: c.id, userId: c.userId ?? undefined, surface: 'socket' });
        return this.closeWith(socket, CloseCode.rateLimited, 'rate limit');
      }
      throw new GatewayError('rate_limited', 'too many frames; slow down', { retryAfterMs: d.retryAfterMs });
    }
    switch (frame.type) {
      case 'hello':
        return this.hello(socket, frame);
      case 'ping':
        return this.write(socket, { type: 'pong', t: frame.t });
      case 'join':
        return this.join(socket, frame.sessionId, frame.after, frame.epoch);
      case 'leave':
        c.joined?.delete(frame.sessionId);
        this.o.hub.leave(frame.sessionId, socket);
        return;
      case 'send': {
        await this.requireSession(c.userId!, frame.sessionId);
        if (!c.joined?.has(frame.sessionId)) await this.join(socket, frame.sessionId, undefined);
        // Not awaited: an enqueued or interrupting send may wait for the session, and the
        // connection must keep serving its other frames (a cancel, a ping) meanwhile.
        void this.o.runs
          .send({ userId: c.userId!, connectionId: c.id }, frame, (runId) =>
            this.write(socket, { type: 'ack', id: frame.id, sessionId: frame.sessionId, runId }),
          )
          .catch((e) => this.fail(socket, e, frame.id, frame.sessionId));
        return;
      }
      case 'cancel':
        await this.requireSession(c.userId!, frame.sessionId);
        return this.o.runs.cancel(frame.sessionId, frame.runId);
    }
  }

  private async hello(socket: Socket<ConnData>, frame: HelloFrame): Promise<void> {
    const c = socket.data;
    if (c.helloDone) throw new GatewayError('bad_frame', 'already authenticated');
    let userId: string | null = null;
    let loginId: string | null = c.loginId;
    let resumeSessions: Record<string, number> | null = null;
    let resumeEpochs: Record<string, string> = {};
    if (frame.resume) {
      const r = await this.o.authn.resume(frame.resume.token);
      if (r.ok && (!c.userId || c.userId === r.claims.userId)) {
        userId = r.claims.userId;
        loginId = r.claims.loginId;
        // The previous connection's sessions, from where the server last wrote; the client's `after` wins.
        const previous = await this.o.resume.load(r.claims.connectionId).catch(() => null);
        const inherited = previous?.userId === userId ? previous.sessions : {};
        resumeSessions = { ...inherited, ...frame.resume.after };
        resumeEpochs = { ...(previous?.userId === userId ? previous.epochs : {}), ...frame.resume.epochs };
      } else {
        securityLog(this.o.logger, SecurityEvent.resumeRefused, { address: c.remoteAddress, why: r.ok ? 'other_user' : r.why, surface: 'socket' });
        this.write(socket, { type: 'error', code: 'resume_expired', message: 'the resume token is expired or invalid; authenticate again', retryable: true });
        if (!frame.token && !c.userId) {
          // The client may send another hello within the timeout, but only a few.
          if (++c.failedHellos >= MAX_FAILED_HELLOS) return this.closeWith(socket, CloseCode.unauthorized, 'too many failed hellos');
          return;
        }
      }
    }
    if (!userId && frame.token) {
      const r = await this.o.authn.access(frame.token);
      if (!r.ok) {
        securityLog(this.o.logger, SecurityEvent.tokenRefused, { address: c.remoteAddress, why: r.why, surface: 'socket' });
        const message = r.why === 'unknown_user' ? 'the account no longer exists' : `access token ${r.why}`;
        this.write(socket, { type: 'error', code: 'unauthorized', message, retryable: r.why === 'expired' });
        return this.closeWith(socket, CloseCode.unauthorized, 'unauthorized');
      }
      if (c.userId && c.userId !== r.claims.userId) return this.closeWith(socket, CloseCode.forbidden, 'token user differs');
      userId = r.claims.userId;
      loginId = r.claims.loginId ?? null;
    }
    userId ??= c.userId;
    if (!userId) return this.closeWith(socket, CloseCode.unauthorized, 'a token is required');
    const slot = await this.o.limiters.sockets.acquire(userId);
    if (!slot.ok) {
      this.write(socket, toErrorFrame(new GatewayError('rate_limited', 'too many open sockets for this user', { retryAfterMs: slot.retryAfterMs })));
      return this.closeWith(socket, CloseCode.rateLimited, 'too many sockets');
    }
    if (socket.closed) {
      await slot.release();
      return;
    }
    c.slot = slot;
    c.userId = userId;
    c.loginId = loginId;
    c.helloDone = true;
    if (c.timer) clearTimeout(c.timer);
    c.timer = null;
    this.write(socket, {
      type: 'ready',
      connectionId: c.id,
      userId,
      resume: await this.o.tokens.signResume({ userId, connectionId: c.id, loginId: loginId ?? undefined }),
      resumed: resumeSessions !== null,
      heartbeatMs: this.o.bounds.heartbeatMs,
      limits: { maxFrameBytes: this.o.bounds.maxFrameBytes, maxTextChars: Limits.maxTextChars, maxTextBytes: this.maxTextBytes },
      node: this.o.nodeId,
    });
    this.o.logger.debug('socket authenticated', { connectionId: c.id, userId, resumed: resumeSessions !== null });
    for (const [sessionId, after] of Object.entries(resumeSessions ?? {})) {
      try {
        await this.join(socket, sessionId, after, resumeEpochs[sessionId]);
      } catch (e) {
        this.fail(socket, e, undefined, sessionId);
      }
    }
  }

  private async join(socket: Socket<ConnData>, sessionId: string, after: number | undefined, epoch?: string): Promise<void> {
    const c = socket.data;
    await this.requireSession(c.userId!, sessionId);
    const activeRunId = await this.o.runs.activeRunId(sessionId);
    (c.joined ??= new Set()).add(sessionId);
    const onJoined = (r: JoinResult) => {
      const replayGap = after !== undefined && r.gap;
      this.write(socket, { type: 'joined', sessionId, seq: r.lastSeq, epoch: r.epoch, replayed: r.replayed, gap: replayGap, activeRunId });
      if (replayGap)
        this.write(socket, {
          type: 'error',
          code: 'replay_gap',
          message: `frames after ${after} are no longer in the log; fetch the transcript over HTTP`,
          retryable: false,
          sessionId,
        });
    };
    await this.o.hub.join(sessionId, socket, after, onJoined, epoch);
    if (socket.closed) this.o.hub.leave(sessionId, socket);
  }

  private async requireSession(userId: string, sessionId: string): Promise<void> {
    if (!(await this.o.canAccess(userId, sessionId))) throw new GatewayError('not_found', 'no such session');
  }

  /** UTF-8 bytes a `send.text` may hold: the frame limit less room for the frame around it. */
  private get maxTextBytes(): number {
    return this.o.bounds.maxFrameBytes - FRAME_ENVELOPE_BYTES;
  }

  private tooLarge(socket: Socket<ConnData>, message: string, ref?: string): void {
    this.events.frameIn('invalid');
    if (!socket.data.helloSeen) return this.closeWith(socket, CloseCode.unauthorized, 'hello must come first');
    this.write(socket, { type: 'error', code: 'too_large', message, retryable: false, ref });
  }

  private badFrame(socket: Socket<ConnData>, message: string, ref?: string): void {
    const c = socket.data;
    this.events.frameIn('invalid');
    if (!c.helloSeen) return this.closeWith(socket, CloseCode.unauthorized, 'hello must come first');
    if (addGarbage((c.garbage ??= newGarbageScore()), GARBAGE_DECAY_MS) >= this.o.bounds.maxBadFrames) {
      securityLog(this.o.logger, SecurityEvent.socketAbuse, { limit: 'bad_frames', address: c.remoteAddress, connectionId: c.id, userId: c.userId ?? undefined, surface: 'socket' });
      return this.closeWith(socket, CloseCode.protocolAbuse, 'too many bad frames');
    }
    this.write(socket, { type: 'error', code: 'bad_frame', message, retryable: false, ref });
  }

  private fail(socket: Socket<ConnData>, e: unknown, ref?: string, sessionId?: string): void {
    const err = toGatewayError(e);
    if (err.status >= 500) this.o.logger.error('frame handling failed', { connectionId: socket.data.id, userId: socket.data.userId ?? undefined, error: e instanceof Error ? e.stack : String(e) });
    this.write(socket, toErrorFrame(err, { ref, sessionId }));
  }

  private write(socket: Socket<ConnData>, frame: ServerFrame): void {
    if (socket.closed) return;
    const json = JSON.stringify(frame);
    socket.send(json);
    this.events.frameOut(frame, Buffer.byteLength(json));
    if (socket.bufferedAmount() > this.o.bounds.maxBackpressureBytes) this.closeWith(socket, CloseCode.slowConsumer, 'slow consumer');
  }

  private closeWith(socket: Socket<ConnData>, code: number, reason: string): void {
    this.o.logger.debug('closing socket', { connectionId: socket.data.id, code, reason });
    if (!socket.closed) this.events.serverClose(code);
    socket.close(code, reason);
  }
}

