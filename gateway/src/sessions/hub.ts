import type { SessionFrame, SessionFrameInput } from '@switchboard/protocol';
import type { Logger } from '../logger.js';
import { NO_INSTRUMENTATION, type AppendedFrame, type Instrumentation, type PubSub, type SessionLog } from '../ports.js';

/** What the hub needs of a socket. */
export interface HubSocket {
  send(message: string): 'ok' | 'backpressure' | 'dropped';
  bufferedAmount(): number;
  subscribe(topic: string): void;
  unsubscribe(topic: string): void;
  readonly closed: boolean;
  /** Delivered by direct `send` instead of the transport's topic (SSE streams, in-process taps). */
  readonly direct?: boolean;
}

const FRAME_HEAD = /^\{"type":"(\w+)","sessionId":"[^"]*","runId":"([^"]+)"/;

interface SessionState {
  /** The run whose frames are flowing and whose `done` has not been seen. */
  openRun: string | null;
  /**
   * Runs open when the log was recreated (an epoch change) whose `done` this node has not seen:
   * their frames went with the lost log, so the new log's tail does not name them, yet each still
   * needs its one `done` (the lost-run watcher ends them).
   */
  cut: Set<string>;
  /** Highest seq published to the local topic; -1 until initialized. */
  last: number;
  ready: Promise<void>;
  live: Set<HubSocket>;
  /** How many of `live` take frames one by one (`direct`) rather than from the topic. */
  directs: number;
  /** Bytes emitted since the live sockets' backpressure was last checked. */
  unchecked: number;
  catching: Map<HubSocket, Array<{ seq: number; json: string }>>;
  pending: Map<number, string>;
  filling: boolean;
  /** The epoch of the log this node's stream follows ('' while the log was never written). */
  epoch: string;
  /** The session's topic on the transport (made once, not per frame). */
  topic: string;
}

export interface JoinResult {
  replayed: number;
  gap: boolean;
  lastSeq: number;
  /** The log's epoch ('' when nothing was ever written). */
  epoch: string;
}

export interface SessionHubOptions {
  log: SessionLog;
  bus: PubSub;
  /** Publishes a serialized message once to every local socket on a topic (uWS topics). */
  publish(topic: string, message: string): void;
  /** Called for a socket whose unsent data passed the limit. */
  onSlowConsumer(socket: HubSocket): void;
  maxBackpressureBytes: number;
  logger: Logger;
  /** Frames replayed and delivered are reported here (keep it cheap). @default NO_INSTRUMENTATION */
  instrumentation?: Pick<Instrumentation, 'delivered' | 'replayed'>;
}

export const sessionTopic = (sessionId: string) => `s:${sessionId}`;
/** `sb:session:{<sessionId>}`: the hash tag puts a sharded channel in the slot of the session's keys. */
export const sessionChannel = (sessionId: string) => `sb:session:{${sessionId}}`;

/** A bus message: `<seq> <epoch> <frame json>`, so a node orders frames without parsing them. */
export function encodeBus(seq: number, epoch: string, json: string): string {
  return `${seq} ${epoch} ${json}`;
}
/** The `seq` of a bus message, read in place (no substring); 0 when it does not start with one. */
export function busSeq(message: string): number {
  let seq = 0;
  for (let i = 0; i < message.length && i < 16; i++) {
    const c = message.charCodeAt(i);
    if (c === 32) return i > 0 ? seq : 0;
    if (c < 48 || c > 57) return 0;
    seq = seq * 10 + (c - 48);
  }
  return 0;
}
export function decodeBus(message: string): { seq: number; epoch: string; json: string } | null {
  const space = message.indexOf(' ');
  const second = message.indexOf(' ', space + 1);
  const seq = Number(message.slice(0, space));
  if (space <= 0 || second < 0 || !Number.isInteger(seq) || seq <= 0) return null;
  return { seq, epoch: message.slice(space + 1, second), json: message.slice(second + 1) };
}

/**
 * A read of a session's log shows it recreated (a new epoch) for a node that follows `known`: the
 * read found another epoch, or none at all, the log lost and not opened again yet (Redis came back
 * empty and nothing wrote to the session since). An epoch only ever ends that way, so a node that
 * holds one and reads `''` is on a lost log, not an unknown one.
 */
function epochChanged(known: string, read: string): boolean {
  return known !== '' && read !== known;
}

/** What a run's appends carry: the run lease the log fences them with, and the log's checks. */
export interface HubAppendOptions {
  lease?: string;
  /** Refuse the frames while the session's previous run has no `done` (the log checks it in the same step). */
  ifPreviousEnded?: boolean;
  /** Release the run lock with the run's `done`, where the log can ({@link SessionHub.releasesLease}). */
  releaseOnEnd?: boolean;
}

/**
 * Per-node fan-out of session frames. Frames reach a node through the bus (or directly from a run
 * on this node), are put in `seq` order — holes are filled from the log — and published once to
 * the session's topic. A joining socket first replays from the log, then goes live with no frame
 * lost or repeated in between.
 */
export class SessionHub {
  private readonly sessions = new Map<string, SessionState>();
  private readonly events: Pick<Instrumentation, 'delivered' | 'replayed'>;

  /** Bytes of frames a session emits between two reads of its sockets' backpressure. */
  private readonly checkEvery: number;

  constructor(private readonly opts: SessionHubOptions) {
    this.events = opts.instrumentation ?? NO_INSTRUMENTATION;
    this.checkEvery = Math.max(1, Math.floor(opts.maxBackpressureBytes / 8));
  }

  /** Appends a frame to the log, delivers it to local sockets at once and to other nodes by the bus. */
  async append(input: SessionFrameInput, options: HubAppendOptions = {}): Promise<SessionFrame> {
    const w = (await this.opts.log.appendBatch([input], options))[0]!;
    const state = this.sessions.get(input.sessionId);
    if (state) this.deliver(input.sessionId, state, w.frame.seq, w.json, w.epoch, w.frame);
    // In one process the local delivery above is all there is; other nodes hear it on the bus.
    // Published by the bus, not the log's script: the bus's publish latency is measured on it.
    if (!this.opts.bus.inProcess) await this.opts.bus.publish(sessionChannel(input.sessionId), encodeBus(w.frame.seq, w.epoch, w.json));
    return w.frame;
  }

  /** True when the log releases the run lock with a run's `done` (`releaseOnEnd`): no release of its own. */
  get releasesLease(): boolean {
    return this.opts.log.releasesLease === true;
  }

  /**
   * Appends frames of one session in order in one log step, delivers them to local sockets and to
   * other nodes (published by the log in the same step when it can, else one publish per frame,
   * sent together). A run's token, tool and `done` frames come through here.
   */
  appendBatch(inputs: SessionFrameInput[], options: HubAppendOptions = {}): Promise<SessionFrame[]> {
    if (inputs.length === 0) return Promise.resolve([]);
    const sessionId = inputs[0]!.sessionId;
    const { log, bus } = this.opts;
    const channel = bus.inProcess ? undefined : sessionChannel(sessionId);
    const publishes = channel !== undefined && log.publishes;
    let appended: Promise<AppendedFrame[]>;
    try {
      appended = log.appendBatch(inputs, publishes ? { ...options, publish: channel } : options);
    } catch (e) {
      return Promise.reject(e);
    }
    // Per batch (each token of an unhurried stream is one): one `then`, no async function.
    return appended.then((written) => {
      for (const w of written) {
        const state = this.sessions.get(sessionId);
        if (state) this.deliver(sessionId, state, w.frame.seq, w.json, w.epoch, w.frame);
      }
      const frames = written.map((w) => w.frame);
      if (channel === undefined || publishes) return frames;
      return Promise.all(written.map((w) => bus.publish(channel, encodeBus(w.frame.seq, w.epoch, w.json)))).then(() => frames);
    });
  }

  /** The epoch of the log this node follows for a session ('' when unknown). */
  epoch(sessionId: string): string {
    return this.sessions.get(sessionId)?.epoch ?? '';
  }

  /**
   * Attaches a socket: replays frames after `after`, calls `onJoined` before the first replayed
   * frame, then delivers live frames. A client that names the epoch its `after` belongs to and
   * finds the log in another one gets `gap` and the whole new epoch (its `seq`s are all new).
   */
  async join(sessionId: string, socket: HubSocket, from: number | undefined, onJoined: (r: JoinResult) => void, clientEpoch?: string): Promise<JoinResult> {
    let state = this.ensure(sessionId);
    await state.ready;
    // The last other socket may have left while we waited, releasing that state: use the live one.
    while (this.sessions.get(sessionId) !== state) {
      state = this.ensure(sessionId);
      await state.ready;
    }
    // No `after`: live from the last frame this node has delivered. Another epoch: all of this one.
    const otherEpoch = clientEpoch !== undefined && clientEpoch !== '' && clientEpoch !== state.epoch && (from ?? 0) > 0;
    const after = otherEpoch ? 0 : (from ?? state.last);
    // A re-join re-syncs: detach without releasing the state (the socket may be its only one,
    // and releasing it would leave the socket on a state no frame reaches any more).
    this.detach(sessionId, state, socket);
    const buffer: Array<{ seq: number; json: string }> = [];
    state.catching.set(socket, buffer);
    try {
      // Read from where the node is if it is behind the client: the log can hold frames the bus
      // has not brought yet, and those go through the node's own stream first (below), so the
      // bus copy that comes later is a repeat the node drops, not a second delivery.
      const from = Math.min(after, state.last);
      const frames: SessionFrame[] = [];
      let cursor = from;
      let gap = false;
      let lastSeq = 0;
      let epoch = state.epoch;
      for (;;) {
        const page = await this.opts.log.readAfter(sessionId, cursor, 1000);
        if (frames.length === 0) gap = page.gap;
        lastSeq = page.lastSeq;
        epoch = page.epoch;
        frames.push(...page.frames);
        if (page.frames.length < 1000) break;
        cursor = page.frames[page.frames.length - 1]!.seq;
      }
      // The client's own gap: the log no longer holds `after + 1`.
      if (from < after) gap = after < lastSeq && !frames.some((f) => f.seq === after + 1);
      if (otherEpoch || (clientEpoch && epoch && clientEpoch !== epoch && (from ?? 0) > 0)) gap = true;
      if (socket.closed || state.catching.get(socket) !== buffer) return { replayed: 0, gap, lastSeq, epoch };
      if (epochChanged(state.epoch, epoch)) {
        // The log was recreated (or lost and not reopened yet) while we read: start over on the
        // new epoch; the re-join opens the log, so it has one.
        state.catching.delete(socket);
        this.changeEpoch(sessionId, state);
        return this.join(sessionId, socket, from, onJoined, clientEpoch);
      }
      if (state.epoch === '') state.epoch = epoch;
      // From here on everything is synchronous: no live frame can slip between replay and live.
      // The node catches up with the log first: its live sockets (and this socket's buffer) get
      // what the read found beyond the node's last frame.
      for (const f of frames) if (f.seq > state.last) this.deliver(sessionId, state, f.seq, JSON.stringify(f));
      const replay = frames.filter((f) => f.seq > after);
      const result = { replayed: replay.length, gap, lastSeq: Math.max(lastSeq, state.last), epoch };
      onJoined(result);
      let sent = after;
      const delivered = socket.direct ? undefined : (json: string, n: number) => this.events.delivered(json, n);
      for (const f of replay) {
        if (f.seq <= sent) continue;
        const json = JSON.stringify(f);
        socket.send(json);
        delivered?.(json, 1);
        sent = f.seq;
      }
      for (const b of buffer) {
        if (b.seq <= sent) continue;
        socket.send(b.json);
        delivered?.(b.json, 1);
        sent = b.seq;
      }
      state.catching.delete(socket);
      state.live.add(socket);
      if (socket.direct) state.directs++;
      else socket.subscribe(sessionTopic(sessionId));
      this.events.replayed(replay.length);
      if (socket.bufferedAmount() > this.opts.maxBackpressureBytes) this.opts.onSlowConsumer(socket);
      return result;
    } catch (e) {
      state.catching.delete(socket);
      this.releaseIfIdle(sessionId, state);
      throw e;
    }
  }

  /**
   * An in-process subscriber (SSE, non-streaming HTTP turns): frames after `after`, then live,
   * as parsed frames in `seq` order. Call `close()` when done.
   */
  async tap(sessionId: string, after: number | undefined, onFrame: (frame: SessionFrame) => void): Promise<{ close(): void; lastSeq: number; gap: boolean }> {
    let closed = false;
    const socket: HubSocket = {
      direct: true,
      get closed() {
        return closed;
      },
      send: (json) => {
        if (!closed) onFrame(JSON.parse(json) as SessionFrame);
        return 'ok';
      },
      bufferedAmount: () => 0,
      subscribe: () => {},
      unsubscribe: () => {},
    };
    const r = await this.join(sessionId, socket, after, () => {});
    return {
      lastSeq: r.lastSeq,
      gap: r.gap,
      close: () => {
        closed = true;
        this.leave(sessionId, socket);
      },
    };
  }

  /**
   * Delivers what the log holds beyond this node's last frame of a session: a bus message that
   * was lost (the subscriber was reconnecting) leaves no hole to fill when it was the last frame
   * of a run, its `done`. Also notices a log recreated with nothing new written to it, or lost
   * and not opened again at all.
   */
  async catchUp(sessionId: string): Promise<void> {
    const state = this.sessions.get(sessionId);
    if (!state || state.last < 0 || state.filling) return;
    const page = await this.opts.log.readAfter(sessionId, state.last, 1000);
    if (this.sessions.get(sessionId) !== state) return;
    if (epochChanged(state.epoch, page.epoch)) return this.changeEpoch(sessionId, state);
    for (const f of page.frames) this.deliver(sessionId, state, f.seq, JSON.stringify(f), page.epoch);
  }

  /** Frames of a session's log after `after` (at most `limit`). */
  read(sessionId: string, after: number, limit: number) {
    return this.opts.log.readAfter(sessionId, after, limit);
  }

  /** The newest frame in a session's log, if any. */
  async lastFrame(sessionId: string): Promise<SessionFrame | undefined> {
    return this.frameAt(sessionId, await this.opts.log.lastSeq(sessionId));
  }

  private async frameAt(sessionId: string, seq: number): Promise<SessionFrame | undefined> {
    return seq > 0 ? (await this.opts.log.readAfter(sessionId, seq - 1, 1)).frames[0] : undefined;
  }

  /** Detaches a socket from a session. */
  leave(sessionId: string, socket: HubSocket): void {
    const state = this.sessions.get(sessionId);
    if (!state) return;
    this.detach(sessionId, state, socket);
    this.releaseIfIdle(sessionId, state);
  }

  private detach(sessionId: string, state: SessionState, socket: HubSocket): void {
    state.catching.delete(socket);
    if (!state.live.delete(socket)) return;
    if (socket.direct) state.directs--;
    else if (!socket.closed) socket.unsubscribe(sessionTopic(sessionId));
  }

  /** Sessions with local sockets. */
  get sessionCount(): number {
    return this.sessions.size;
  }

  async close(): Promise<void> {
    for (const id of [...this.sessions.keys()]) await this.opts.bus.unsubscribe(sessionChannel(id)).catch(() => {});
    this.sessions.clear();
  }

  private ensure(sessionId: string): SessionState {
    let state = this.sessions.get(sessionId);
    if (state) return state;
    const s: SessionState = {
      openRun: null,
      cut: new Set(),
      last: -1,
      ready: Promise.resolve(),
      live: new Set(),
      directs: 0,
      unchecked: 0,
      catching: new Map(),
      pending: new Map(),
      filling: false,
      epoch: '',
      topic: sessionTopic(sessionId),
    };
    s.ready = (async () => {
      await this.opts.bus.subscribe(sessionChannel(sessionId), (message) => {
        const cur = this.sessions.get(sessionId);
        if (!cur) return;
        // This node's own frames come back on the bus too, after it delivered them: dropped by
        // their `seq` before the message is cut into pieces.
        if (cur.last >= 0 && busSeq(message) <= cur.last) return;
        const m = decodeBus(message);
        if (m) this.deliver(sessionId, cur, m.seq, m.json, m.epoch);
      });
      // Opening the log gives it an epoch before its first frame: a client that joins an empty
      // session learns the epoch its `seq`s will belong to.
      const epoch = await this.opts.log.open(sessionId);
      const last = await this.opts.log.lastSeq(sessionId);
      const page = await this.opts.log.readAfter(sessionId, Math.max(0, last - 1), 1);
      const tail = last > 0 ? page.frames.find((f) => f.seq === last) : undefined;
      if (tail && tail.type !== 'done' && s.openRun === null) s.openRun = tail.runId;
      if (tail?.type === 'done') s.cut.delete(tail.runId);
      s.epoch = page.epoch || epoch;
      s.last = Math.max(last, page.lastSeq);
      this.drainPending(sessionId, s);
    })();
    s.ready.catch(() => this.sessions.get(sessionId) === s && this.sessions.delete(sessionId));
    this.sessions.set(sessionId, s);
    return s;
  }

  private releaseIfIdle(sessionId: string, state: SessionState): void {
    if (state.live.size || state.catching.size) return;
    if (this.sessions.get(sessionId) !== state) return;
    this.sessions.delete(sessionId);
    void this.opts.bus.unsubscribe(sessionChannel(sessionId)).catch(() => {});
  }

  /** `frame`: the parsed frame when the caller has it (a local append), so its head is not read from `json`. */
  private deliver(sessionId: string, state: SessionState, seq: number, json: string, epoch?: string, frame?: SessionFrame): void {
    if (state.last >= 0 && seq <= state.last) return;
    if (epoch && state.last >= 0 && state.epoch !== '' && epoch !== state.epoch) return this.changeEpoch(sessionId, state);
    if (epoch && state.epoch === '') state.epoch = epoch;
    if (seq === state.last + 1 && state.pending.size === 0) {
      // In order with nothing waiting (every frame of a healthy stream): straight out.
      state.last = seq;
      return this.emit(sessionId, state, seq, json, frame);
    }
    state.pending.set(seq, json);
    if (state.last < 0) return;
    this.drainPending(sessionId, state);
    if (state.pending.size && !state.filling) void this.fill(sessionId, state);
  }

  private drainPending(sessionId: string, state: SessionState): void {
    for (const seq of state.pending.keys()) if (seq <= state.last) state.pending.delete(seq);
    for (let json = state.pending.get(state.last + 1); json !== undefined; json = state.pending.get(state.last + 1)) {
      state.pending.delete(state.last + 1);
      this.emit(sessionId, state, ++state.last, json);
    }
  }

  /** A hole in the bus stream (lost message, reordering): read what is missing from the log. */
  private async fill(sessionId: string, state: SessionState): Promise<void> {
    state.filling = true;
    try {
      while (state.pending.size && this.sessions.get(sessionId) === state) {
        const page = await this.opts.log.readAfter(sessionId, state.last, 1000);
        if (this.sessions.get(sessionId) !== state) return;
        if (epochChanged(state.epoch, page.epoch)) return this.changeEpoch(sessionId, state);
        for (const f of page.frames) if (f.seq > state.last) state.pending.set(f.seq, JSON.stringify(f));
        if (page.gap || page.frames.length === 0) {
          // The log no longer has the hole (or never will): skip to what we have.
          const next = Math.min(...state.pending.keys());
          this.opts.logger.warn('session hole could not be filled from the log', { sessionId, from: state.last + 1, to: next - 1 });
          state.last = next - 1;
        }
        this.drainPending(sessionId, state);
      }
    } catch (e) {
      this.opts.logger.error('session hole fill failed', { sessionId, error: String(e) });
    } finally {
      state.filling = false;
    }
  }

  /**
   * The session's log was recreated (its store lost it): this node's stream of the old epoch
   * ends. Every socket is told (`joined{gap:true}` with the new epoch, and `replay_gap`) and
   * joined again on the new epoch from its start, whose `seq`s are all above the old ones.
   */
  private changeEpoch(sessionId: string, state: SessionState): void {
    if (this.sessions.get(sessionId) !== state) return;
    const sockets = [...state.live, ...state.catching.keys()];
    for (const socket of state.live) if (!socket.closed && !socket.direct) socket.unsubscribe(sessionTopic(sessionId));
    // A join still reading the old log finds its socket gone from this state and stops there: it
    // must not put the socket back on the old stream (an old `joined`, old frames again) once
    // the re-join below has put it on the new epoch.
    state.live.clear();
    state.directs = 0;
    state.catching.clear();
    this.sessions.delete(sessionId);
    this.opts.logger.warn('session log recreated: new epoch', { sessionId, oldEpoch: state.epoch, last: state.last, openRun: state.openRun });
    const cut = new Set(state.cut);
    if (state.openRun) cut.add(state.openRun);
    for (const socket of sockets) {
      if (socket.closed) continue;
      void this.join(sessionId, socket, 0, (r) => {
        if (socket.direct) return;
        socket.send(JSON.stringify({ type: 'joined', sessionId, seq: r.lastSeq, epoch: r.epoch, replayed: r.replayed, gap: true }));
        socket.send(
          JSON.stringify({ type: 'error', code: 'replay_gap', message: 'the session log was recreated; fetch history over HTTP', retryable: false, sessionId }),
        );
      }).catch((e) => this.opts.logger.warn('re-join on a new epoch failed', { sessionId, error: String(e) }));
    }
    // The joins above created the new epoch's state at once (before their first await).
    const next = this.sessions.get(sessionId);
    if (next && next !== state) for (const runId of cut) next.cut.add(runId);
  }

  /** The last `seq` this node has published to a session's local sockets (0 when it has none). */
  delivered(sessionId: string): number {
    return Math.max(0, this.sessions.get(sessionId)?.last ?? 0);
  }

  /**
   * Runs of sessions with local sockets that have not ended as far as this node saw: the current
   * run, and runs cut by an epoch change (for lost-node detection).
   */
  openRuns(): Array<{ sessionId: string; runId: string }> {
    const out: Array<{ sessionId: string; runId: string }> = [];
    for (const [sessionId, s] of this.sessions) {
      if (s.openRun) out.push({ sessionId, runId: s.openRun });
      for (const runId of s.cut) if (runId !== s.openRun) out.push({ sessionId, runId });
    }
    return out;
  }

  /**
   * A run found ended in the log, its `done` at `doneSeq`: no longer open once this node's stream
   * has passed it (delivered it, or began after it). A `done` beyond the stream is not delivered
   * yet (its bus message was lost, or the log is in a newer epoch): the run stays open, so the
   * lost-run watcher catches up on it again.
   */
  runEnded(sessionId: string, runId: string, doneSeq: number): void {
    const state = this.sessions.get(sessionId);
    if (!state || state.last < doneSeq) return;
    state.cut.delete(runId);
    if (state.openRun === runId) state.openRun = null;
  }

  private emit(sessionId: string, state: SessionState, seq: number, json: string, frame?: SessionFrame): void {
    let type: string | undefined;
    let runId: string | undefined;
    if (frame) {
      type = frame.type;
      runId = frame.runId;
    } else {
      const head = FRAME_HEAD.exec(json);
      type = head?.[1];
      runId = head?.[2];
    }
    if (type === 'done') {
      // A cut run's `done` can come after the next run's frames began: it ends that run only.
      if (state.openRun === runId) state.openRun = null;
      state.cut.delete(runId!);
    } else if (runId !== undefined) state.openRun = runId;
    if (state.directs > 0) for (const socket of state.live) if (socket.direct) socket.send(json);
    const topicSockets = state.live.size - state.directs;
    if (topicSockets) {
      this.opts.publish(state.topic, json);
      this.events.delivered(json, topicSockets);
    }
    for (const buffer of state.catching.values()) buffer.push({ seq, json });
    // Backpressure is read once per eighth of the limit emitted, not per frame and socket (a
    // native call each): a slow socket is closed at most an eighth of the limit past it (from
    // this session's frames); the transport itself drops frames only at four times the limit.
    state.unchecked += json.length;
    if (state.unchecked >= this.checkEvery) {
      state.unchecked = 0;
      for (const socket of state.live) {
        if (socket.bufferedAmount() > this.opts.maxBackpressureBytes) this.opts.onSlowConsumer(socket);
      }
    }
  }
}
