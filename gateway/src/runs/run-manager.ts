import { randomUUID } from 'node:crypto';
import type { DoneFrame, ErrorFrame, SendFrame, SessionFrame, SessionFrameInput } from '@switchboard/protocol';
import { abortReason, agentErrorFrame, doneFrame, endedWithoutDone, failedDone, tokenFrame, toolEndFrame, toolStartFrame, type AbortReason } from './run-frames.js';
import { GatewayError } from '../errors.js';
import { FrameWriter } from './frame-writer.js';
import { withLogContext, type Logger } from '../logger.js';
import type { SessionHub } from '../sessions/hub.js';
import { LeaseLostError, PreviousRunOpenError, type AgentRunner, type IdempotencyStore, type PubSub, type RunEndRepository, type RunLock } from '../ports.js';


interface LocalRun {
  runId: string;
  sessionId: string;
  userId: string;
  controller: AbortController;
  finished: Promise<void>;
}

/** What happens around a run (persistence, usage, metrics); every hook is optional and may fail safely. */
export interface RunHooks {
  /** Before a run starts (quota checks); throw a GatewayError to refuse. */
  beforeRun?(input: { userId: string; sessionId: string; text: string }): Promise<void>;
  /**
   * After the run holds the session and before the ack: stores the user message, so an acked
   * send is a stored one. Throw to refuse the send (nothing of it stays).
   */
  accepted?(input: { userId: string; sessionId: string; runId: string; clientMessageId: string; text: string }): Promise<void>;
  /**
   * After the run's last frame and before its `done` (the `done` waits for it): writes the run's
   * record, which ends it, so a run whose `done` was written is never ended again. `seqTo` is the
   * `seq` its `done` is to get. Failures are the hook's to handle (a failed record leaves the run
   * open; the sweep completes it from the log).
   */
  afterRun?(input: {
    userId: string;
    sessionId: string;
    runId: string;
    clientMessageId: string;
    text: string;
    answer: string;
    tools: Array<{ name: string; input: unknown; output?: string; error?: string }>;
    done: Omit<DoneFrame, 'seq'>;
    seqFrom: number;
    seqTo: number;
  }): Promise<void>;
  /**
   * A run that ended without its own `done` (its node died, or it lost its lease): called by the
   * node that wrote `done{error:node_lost}` for it, with the run's frames from the log (what
   * clients saw), to complete the turn's record.
   */
  lostRun?(input: { sessionId: string; runId: string; frames: SessionFrame[] }): Promise<void>;
  /**
   * A run that lost its lease (or whose `done` the log did not take) and stopped: its record is
   * the taker's to complete, but the tokens it used are still this run's to charge (a failure
   * after the ack never skips the accounting).
   */
  fencedRun?(input: { userId: string; sessionId: string; runId: string; done: Omit<DoneFrame, 'seq'> }): Promise<void>;
  /** Runs the whole run inside `body` (a trace span and its id in the log context); `body` gets the run's trace id. */
  wrapRun?(run: { sessionId: string; runId: string; userId: string }, body: (traceId?: string) => Promise<void>): Promise<void>;
}

export interface RunManagerOptions {
  hub: SessionHub;
  lock: RunLock;
  idempotency: IdempotencyStore;
  /** Node-wide control channel for cancel/interrupt of runs on other nodes. */
  bus: PubSub;
  agent: AgentRunner;
  logger: Logger;
  nodeId: string;
  /** @default 15000 */
  lockTtlMs?: number;
  /** How long an `enqueue` send waits for the session to be free. @default 120000 */
  enqueueTimeoutMs?: number;
  /** Most sends waiting per session. @default 4 */
  maxQueuedPerSession?: number;
  /** How long an `interrupt` waits for the running run to end. @default 10000 */
  interruptTimeoutMs?: number;
  /**
   * Least time between two `token` frames of one run (ms); unset or 0: tokens that arrived while
   * the previous frame was being written are merged, nothing waits.
   */
  tokenCoalesceMs?: number;
  hooks?: RunHooks;
  /**
   * The durable record of which acked runs have ended: asked before a lost run's `done` is
   * written (a run recorded as ended gets none), and read by {@link RunManager.sweepUnended}.
   */
  runEnds?: RunEndRepository;
  /** Sends an `error` frame to the connection that started a run. */
  notify?(connectionId: string, frame: ErrorFrame): void;
}

const CONTROL_CHANNEL = 'sb:control';
const IDEMPOTENCY_TTL_MS = 24 * 3600 * 1000;
/** How far back a lost-run check looks for a run's `done` (the default log retention). */
const LOG_SCAN = 10_000;
/** Writes of a run's `done` (with its `user` frame if that failed too) before it gives up: about 12 s. */
const END_WRITE_ATTEMPTS = 8;

/**
 * Starts, cancels and interrupts runs. One run per session across all nodes (a renewed lease);
 * `send` is idempotent by its client id; every run ends with exactly one `done`.
 */
export class RunManager {
  private readonly runs = new Map<string, LocalRun>();
  private readonly queued = new Map<string, number>();
  /** Runs this node is checking for a missing `done` right now. */
  private readonly ending = new Set<string>();
  private readonly o: Required<Omit<RunManagerOptions, 'hooks' | 'notify' | 'tokenCoalesceMs' | 'runEnds'>> & Pick<RunManagerOptions, 'hooks' | 'notify' | 'tokenCoalesceMs' | 'runEnds'>;
  private draining = false;

  constructor(options: RunManagerOptions) {
    this.o = { lockTtlMs: 15_000, enqueueTimeoutMs: 120_000, maxQueuedPerSession: 4, interruptTimeoutMs: 10_000, ...options };
  }

  /** Subscribes to the control channel. */
  async start(): Promise<void> {
    await this.o.bus.subscribe(CONTROL_CHANNEL, (message) => {
      try {
        const m = JSON.parse(message) as { sessionId: string; runId: string; reason: AbortReason };
        this.abortLocal(m.sessionId, m.runId, m.reason);
      } catch {
        /* not ours */
      }
    });
  }

  /**
   * Watches runs of other nodes that this node's sockets follow: when a run's lease has lapsed and
   * its `done` never came (the node died), writes `done{reason:"error", error:{code:"node_lost"}}`
   * so every run still ends exactly once.
   */
  watchLostRuns(openRuns: () => Array<{ sessionId: string; runId: string }>): () => void {
    const timer = setInterval(() => {
      for (const { sessionId, runId } of openRuns()) {
        if (this.runs.get(sessionId)?.runId === runId) continue;
        void this.reapIfLost(sessionId, runId).catch((e) => this.o.logger.warn('lost-run check failed', { sessionId, error: String(e) }));
      }
    }, Math.max(250, this.o.lockTtlMs / 2));
    timer.unref();
    return () => clearInterval(timer);
  }

  /**
   * Sweeps the durable record for acked runs with no recorded end, accepted more than a lease
   * ago, whose session lease is free: their node died, and no node may follow the session any
   * more (Redis lost the log that named the run, or nobody watches). Each is ended as the
   * lost-run watcher ends one (the same lease, checks and record), after its lease was seen free
   * on two sweeps in a row: a run that lost its lease only because Redis lost its data takes it
   * again within a third of a lease. Every node sweeps; the reaper lease lets one end a run.
   */
  sweepUnended(ends: RunEndRepository, every = Math.max(1000, this.o.lockTtlMs)): () => void {
    let freeBefore = new Set<string>();
    let sweeping = false;
    const sweep = async () => {
      const freeNow = new Set<string>();
      try {
        for (const { sessionId, runId, text, clientMessageId } of await ends.unended(this.o.lockTtlMs, 100)) {
          if (this.runs.get(sessionId)?.runId === runId) continue;
          if ((await this.o.lock.holder(sessionId)) !== null) continue;
          freeNow.add(runId);
          if (!freeBefore.has(runId)) continue;
          const user: SessionFrameInput = { type: 'user', sessionId, runId, id: clientMessageId ?? runId, text };
          await this.endUnended(sessionId, runId, user).catch((e) => this.o.logger.warn('ending an unended run failed', { sessionId, runId, error: String(e) }));
        }
      } finally {
        freeBefore = freeNow;
      }
    };
    const timer = setInterval(() => {
      if (sweeping) return;
      sweeping = true;
      void sweep()
        .catch((e) => this.o.logger.warn('unended-run sweep failed', { error: String(e) }))
        .finally(() => (sweeping = false));
    }, every);
    timer.unref();
    return () => clearInterval(timer);
  }

  private async reapIfLost(sessionId: string, runId: string): Promise<void> {
    const { lock, hub, logger } = this.o;
    const skip = (why: string) => void logger.debug('lost-run check: not ending the run', { sessionId, runId, why });
    // The run's end may be in the log already, its bus message lost: deliver it first.
    await hub.catchUp(sessionId);
    if (!hub.openRuns().some((r) => r.sessionId === sessionId && r.runId === runId)) return skip('ended (caught up)');
    const holder = await lock.holder(sessionId);
    if (holder !== null) return skip(`lease held by ${holder}`);
    if (!(await this.endUnended(sessionId, runId))) skip('ended, or the lease was taken meanwhile');
  }

  /**
   * Ends a run that holds no lease and has no `done` in the log: its node died, it lost its lease,
   * or it was cut by an epoch change (its frames went with the lost log, so the new log's tail does
   * not name it). Takes the session's lease first, so nothing else writes meanwhile and exactly one
   * node writes the `done`; the lease is this node's own, so two nodes never both hold it.
   * True when this node wrote the `done`.
   */
  private async endUnended(sessionId: string, runId: string, user?: SessionFrameInput, doneUnwritten = false): Promise<boolean> {
    // The watcher and a fenced run's own check may both look at a run: one at a time per node.
    if (this.ending.has(runId)) return false;
    this.ending.add(runId);
    try {
      const reaper = `reaper:${this.o.nodeId}:${runId}`;
      if (!(await this.o.lock.acquire(sessionId, reaper, this.o.lockTtlMs))) return false;
      try {
        return await this.endHolding(sessionId, runId, reaper, user, doneUnwritten);
      } finally {
        await this.o.lock.release(sessionId, reaper);
      }
    } finally {
      this.ending.delete(runId);
    }
  }

  /**
   * `user`: the run's user frame from the durable record (the sweep), written before the `done`
   * when the log holds nothing of the run (its node died before writing it), so no client sees a
   * run that is only its `done`.
   */
  private async endHolding(sessionId: string, runId: string, reaper: string, user?: SessionFrameInput, doneUnwritten = false): Promise<boolean> {
    const { hub, logger } = this.o;
    const last = await hub.lastFrame(sessionId);
    // What the log holds of the run, read before its `done` is written: the record is completed
    // from it even when Redis loses the log right after the `done` (clients refetch it then).
    const mine = await this.framesInLog(sessionId, runId, last?.seq ?? 0);
    const doneSeq = mine.find((f) => f.type === 'done')?.seq ?? 0;
    if (doneSeq > 0) {
      // The `done` is in the log, yet this node may never have delivered it: a write whose reply
      // was lost (the run's own, retried and refused) and whose bus copy was lost too. Deliver it
      // (or notice the log's new epoch) before the run stops counting as open.
      await hub.catchUp(sessionId);
      hub.runEnded(sessionId, runId, doneSeq);
      // Its record may be missing (its write failed): complete it from the log. A run recorded
      // already keeps its rows (a record adds rows once).
      if (this.o.runEnds && !(await this.o.runEnds.ended(sessionId, runId))) await this.recordLost(sessionId, runId, doneSeq);
      return false;
    }
    // A run writes its record before its `done`. Recorded, with frames in the log but no `done`:
    // its node died (or it lost its lease) between the two, and the `done` is written now.
    // Recorded with nothing in the log: its `done`, if written, went with a log Redis lost since,
    // and a second one would end it twice. This node's sockets learn of the lost log (catching up
    // notices the new epoch and re-joins them with `gap`), so they read the run from the
    // transcript; then it stops counting as open. Unless the run's own node knows its `done` was
    // never written (`doneUnwritten`: every write of it was refused): then it is written now.
    if (mine.length === 0 && !doneUnwritten && (await this.o.runEnds?.ended(sessionId, runId))) {
      await hub.catchUp(sessionId);
      hub.runEnded(sessionId, runId, 0);
      return false;
    }
    logger.warn(last?.runId === runId ? 'run lost with its node; ending it' : 'run left without a done (cut by a recreated log); ending it', { sessionId, runId });
    const frames = await hub.appendBatch(mine.length === 0 && user ? [user, lostDone(sessionId, runId)] : [lostDone(sessionId, runId)], { lease: reaper });
    await this.recordLost(sessionId, runId, frames.at(-1)!.seq, [...mine, ...frames]);
    return true;
  }

  /** The run's frames in the log (as far back as it keeps), oldest first. */
  private async framesInLog(sessionId: string, runId: string, lastSeq: number): Promise<SessionFrame[]> {
    if (lastSeq < 1) return [];
    const page = await this.o.hub.read(sessionId, Math.max(0, lastSeq - LOG_SCAN), LOG_SCAN);
    return page.frames.filter((f) => f.runId === runId);
  }

  /**
   * A run fenced out ends without a `done` of its own; the taker writes it. When the taker wrote
   * none (a reaper or a run that found the log recreated, with none of this run's frames in it),
   * this node ends it once the lease is free again: a run whose node lives still gets its `done`
   * when nobody else follows its session. `unwritten`: the run recorded itself, and every write of
   * its `done` was refused, so the record's end was never seen; its `user` frame goes first when
   * the log holds nothing of it (a recreated log).
   */
  private async endFenced(sessionId: string, runId: string, unwritten?: SessionFrameInput): Promise<void> {
    for (let attempt = 0; attempt < 20; attempt++) {
      await sleep(Math.max(250, this.o.lockTtlMs / 2));
      if ((await this.o.lock.holder(sessionId)) !== null) continue;
      await this.endUnended(sessionId, runId, unwritten, unwritten !== undefined);
      return;
    }
    this.o.logger.warn('a fenced run could not check its done: the session stayed held', { sessionId, runId });
  }

  /**
   * Appends a run's `user` frame. A run that starts on a session whose last frame belongs to
   * another run without a `done` (that run lost its lease and was fenced out, or its node died
   * unseen) ends that run first: `done{error:node_lost}`, written under the new run's lease, so
   * every run has its one `done`. The log checks that in the append itself (no read before it)
   * and refuses the frame when the previous run is open; only then is the previous run ended.
   */
  private async appendUser(user: SessionFrameInput, lease: string): Promise<SessionFrame> {
    try {
      return await this.o.hub.append(user, { lease, ifPreviousEnded: true });
    } catch (e) {
      if (!(e instanceof PreviousRunOpenError)) throw e;
      await this.endPrevious(user.sessionId, e.previousRunId, lease);
    }
    return this.o.hub.append(user, { lease });
  }

  /** Ends the session's previous run, found without a `done` at the start of a run holding `lease`. */
  private async endPrevious(sessionId: string, previousRunId: string, lease: string): Promise<void> {
    this.o.logger.warn('previous run of the session never ended; ending it', { previousRunId });
    const done = await this.o.hub.append(lostDone(sessionId, previousRunId), { lease }).catch((e) => {
      if (!(e instanceof LeaseLostError)) throw e;
    });
    if (done) void this.recordLost(sessionId, previousRunId, done.seq);
  }

  /** The token text of a run as the log holds it, when the log still holds the run from its `user` frame. */
  private async writtenText(sessionId: string, runId: string, seqFrom: number): Promise<string | null> {
    if (seqFrom < 1) return null;
    const page = await this.o.hub.read(sessionId, seqFrom - 1, 20_000);
    if (page.frames[0]?.seq !== seqFrom || page.frames[0].runId !== runId) return null;
    return page.frames.map((f) => (f.runId === runId && f.type === 'token' ? f.text : '')).join('');
  }

  /** Completes the record of a run this node wrote the lost `done` of, from the log. */
  private async recordLost(sessionId: string, runId: string, doneSeq: number, frames?: SessionFrame[]): Promise<void> {
    const lostRun = this.o.hooks?.lostRun;
    if (!lostRun) return;
    try {
      const page = frames ? null : await this.o.hub.read(sessionId, Math.max(0, doneSeq - 20_000), 20_000);
      await lostRun({ sessionId, runId, frames: frames ?? page!.frames.filter((f) => f.runId === runId && f.seq <= doneSeq) });
    } catch (e) {
      this.o.logger.warn('could not complete the record of a lost run', { sessionId, runId, error: String(e) });
    }
  }

  /** The run holding the session, if any. */
  async activeRunId(sessionId: string): Promise<string | undefined> {
    const holder = this.runs.get(sessionId)?.runId ?? (await this.o.lock.holder(sessionId)) ?? undefined;
    return holder?.startsWith('reaper:') ? undefined : holder;
  }

  /** Runs currently executing on this node. */
  get localRuns(): number {
    return this.runs.size;
  }

  /**
   * Accepts a `send` (the session's ownership is checked by the caller). Resolves with the run id
   * once the run holds the session; `ack` is sent by the caller before any frame of the run.
   */
  async send(ctx: { userId: string; connectionId: string }, frame: SendFrame, onAccepted: (runId: string, duplicate: boolean) => void): Promise<void> {
    if (this.draining) throw new GatewayError('busy', 'this node is draining; reconnect and retry', { retryable: true });
    const runId = randomUUID();
    const key = `send:${ctx.userId}:${frame.sessionId}:${frame.id}`;
    const { idempotency, lock } = this.o;
    // The claim and the lease in one step where the store can: a send's first round trip.
    const claimed: { existing: string | null; acquired?: boolean } = idempotency.claimAndAcquire
      ? await idempotency.claimAndAcquire(key, runId, IDEMPOTENCY_TTL_MS, frame.sessionId, this.o.lockTtlMs)
      : { existing: await idempotency.claim(key, runId, IDEMPOTENCY_TTL_MS, frame.sessionId) };
    // Our own run id back: a resent claim whose first reply was lost; the send is ours.
    if (claimed.existing && claimed.existing !== runId) {
      onAccepted(claimed.existing, true);
      return;
    }
    let acquiredAt: number;
    try {
      if (claimed.acquired !== true) await this.acquire(frame, runId, claimed.acquired === false);
      acquiredAt = Date.now();
      await this.o.hooks?.beforeRun?.({ userId: ctx.userId, sessionId: frame.sessionId, text: frame.text });
      await this.o.hooks?.accepted?.({ userId: ctx.userId, sessionId: frame.sessionId, runId, clientMessageId: frame.id, text: frame.text });
    } catch (e) {
      await idempotency.release(key, runId, frame.sessionId).catch(() => {});
      await lock.release(frame.sessionId, runId).catch(() => {});
      throw e;
    }
    onAccepted(runId, false);
    this.execute(ctx, frame, runId, acquiredAt);
  }

  /** Cancels a run of a session the caller owns; unknown or finished runs are a `not_found`. */
  async cancel(sessionId: string, runId: string): Promise<void> {
    if (this.abortLocal(sessionId, runId, 'cancelled')) return;
    if ((await this.o.lock.holder(sessionId)) !== runId) throw new GatewayError('not_found', 'no such running run');
    await this.o.bus.publish(CONTROL_CHANNEL, JSON.stringify({ sessionId, runId, reason: 'cancelled' }));
  }

  /** Stops taking runs, waits for local ones up to `timeoutMs`, then interrupts the rest. */
  async drain(timeoutMs: number): Promise<void> {
    this.draining = true;
    const all = () => Promise.all([...this.runs.values()].map((r) => r.finished));
    const timer = new Promise((r) => setTimeout(r, timeoutMs).unref());
    await Promise.race([all(), timer]);
    for (const run of this.runs.values()) run.controller.abort('interrupted');
    await Promise.race([all(), new Promise((r) => setTimeout(r, 5000).unref())]);
  }

  /**
   * A run writes its `done` before it releases its lease, so a client that sends as soon as it
   * sees `done` can find the session still held. When the holder's `done` is already in the log,
   * wait (briefly) for the release instead of answering `busy`.
   */
  private async endingRun(sessionId: string, runId: string): Promise<boolean> {
    const holder = await this.o.lock.holder(sessionId);
    if (!holder) return this.o.lock.acquire(sessionId, runId, this.o.lockTtlMs);
    const last = await this.o.hub.lastFrame(sessionId);
    if (last?.type !== 'done' || last.runId !== holder) return false;
    for (let waited = 0; waited < 1000; waited += 25) {
      await sleep(25);
      if (await this.o.lock.acquire(sessionId, runId, this.o.lockTtlMs)) return true;
    }
    return false;
  }

  private abortLocal(sessionId: string, runId: string, reason: AbortReason): boolean {
    const run = this.runs.get(sessionId);
    if (!run || run.runId !== runId) return false;
    run.controller.abort(reason);
    return true;
  }

  /** Takes the session's lease for a send (`tried`: one attempt found it held already). */
  private async acquire(frame: SendFrame, runId: string, tried = false): Promise<void> {
    const { lock } = this.o;
    if (!tried && (await lock.acquire(frame.sessionId, runId, this.o.lockTtlMs))) return;
    if (await this.endingRun(frame.sessionId, runId)) return;
    const policy = frame.ifBusy ?? 'reject';
    if (policy === 'reject') throw new GatewayError('busy', 'the session already has a run; retry after its done or use ifBusy', { retryable: true });
    const queued = this.queued.get(frame.sessionId) ?? 0;
    if (queued >= this.o.maxQueuedPerSession) throw new GatewayError('busy', 'too many sends are queued on this session', { retryable: true });
    this.queued.set(frame.sessionId, queued + 1);
    try {
      if (policy === 'interrupt') {
        const holder = await lock.holder(frame.sessionId);
        if (holder && !this.abortLocal(frame.sessionId, holder, 'interrupted'))
          await this.o.bus.publish(CONTROL_CHANNEL, JSON.stringify({ sessionId: frame.sessionId, runId: holder, reason: 'interrupted' }));
      }
      const deadline = Date.now() + (policy === 'interrupt' ? this.o.interruptTimeoutMs : this.o.enqueueTimeoutMs);
      while (Date.now() < deadline) {
        const local = this.runs.get(frame.sessionId);
        await (local ? Promise.race([local.finished, sleep(250)]) : sleep(50));
        if (await lock.acquire(frame.sessionId, runId, this.o.lockTtlMs)) return;
      }
      throw new GatewayError('busy', 'the session stayed busy', { retryable: true });
    } finally {
      const n = (this.queued.get(frame.sessionId) ?? 1) - 1;
      if (n > 0) this.queued.set(frame.sessionId, n);
      else this.queued.delete(frame.sessionId);
    }
  }

  private execute(ctx: { userId: string; connectionId: string }, frame: SendFrame, runId: string, acquiredAt: number): void {
    const controller = new AbortController();
    let resolveFinished!: () => void;
    const run: LocalRun = {
      runId,
      sessionId: frame.sessionId,
      userId: ctx.userId,
      controller,
      finished: new Promise((r) => (resolveFinished = r)),
    };
    this.runs.set(frame.sessionId, run);
    // The run's ids go on each of its log lines through a logger handed on, not an async context.
    const runLogger = withLogContext(this.o.logger, { connectionId: ctx.connectionId, userId: ctx.userId, sessionId: frame.sessionId, runId });
    const body = (traceId?: string) => this.runToEnd(ctx, frame, run, acquiredAt, traceId ? withLogContext(runLogger, { traceId }) : runLogger, traceId);
    const wrapRun = this.o.hooks?.wrapRun;
    void (wrapRun ? wrapRun({ sessionId: frame.sessionId, runId, userId: ctx.userId }, body) : body())
      .catch((e) => runLogger.error('run failed outside the agent', { error: String(e) }))
      .finally(() => {
        if (this.runs.get(frame.sessionId) === run) this.runs.delete(frame.sessionId);
        resolveFinished();
      });
  }

  private async runToEnd(ctx: { userId: string; connectionId: string }, frame: SendFrame, run: LocalRun, acquiredAt: number, logger: Logger, traceId?: string): Promise<void> {
    const { hub } = this.o;
    const base = { sessionId: frame.sessionId, runId: run.runId };
    const started = Date.now();
    let done: Omit<DoneFrame, 'seq'> | null = null;
    let seqFrom = 0;
    let seqTo = 0;
    const tools: Array<{ name: string; input: unknown; output?: string; error?: string; callId: string }> = [];
    // Every append carries the run's lease: once another node took the session over (the lease
    // lapsed), the log refuses this run's frames and the run stops; its `done` is the taker's.
    const lease = { lease: run.runId };
    let fenced = false;
    const lost = (e: unknown) => {
      if (!(e instanceof LeaseLostError)) return false;
      if (!fenced) logger.warn('run lease lost: the log refused its frames; stopping the run');
      fenced = true;
      run.controller.abort('interrupted');
      return true;
    };
    // The run's `user` frame: its first write, and the one its own late check writes into a recreated log.
    const userFrame: SessionFrameInput = { type: 'user', ...base, id: frame.id, text: frame.text };
    const appendUser = async () => {
      const written = await this.appendUser(userFrame, run.runId);
      seqTo = written.seq;
      return written;
    };
    // The batch with the run's `done` releases the lease in the same step where the log can.
    const releaseOnEnd = hub.releasesLease;
    const batchOptions = releaseOnEnd ? { ...lease, releaseOnEnd } : lease;
    // Set from the moment the `done` goes to the writer: the lease may be gone any time after.
    let releasing = false;
    // The transcript keeps what the log took (what clients saw), not what the model produced:
    // tokens of a batch that failed to be written are in neither.
    let written = '';
    const writer = new FrameWriter({
      append: (frames) => hub.appendBatch(frames, batchOptions),
      onWritten: (out) => {
        for (const f of out) if (f.type === 'token') written += f.text;
      },
      coalesceMs: this.o.tokenCoalesceMs ?? 0,
      onFailure: lost,
    });
    const { lock } = this.o;
    const renewLease = () =>
      void (async () => {
        if (await lock.renew(frame.sessionId, run.runId, this.o.lockTtlMs)) return;
        // Released with the `done` (not lapsed): nothing to take again.
        if (releasing) return;
        // Lapsed: take it again if nobody else did (the log still fences a takeover in between).
        if (await lock.acquire(frame.sessionId, run.runId, this.o.lockTtlMs)) {
          // Taken as the `done` released it: give it back, the run is over.
          if (releasing) return void (await lock.release(frame.sessionId, run.runId));
          return logger.warn('run lease had lapsed; taken again');
        }
        lost(new LeaseLostError(frame.sessionId, run.runId));
      })().catch(() => {});
    // The lease was taken before the send's checks and the user message's write: renewed at once
    // unless it still has a third of its time left when the first interval's renewal comes.
    const renewEveryMs = Math.max(200, this.o.lockTtlMs / 3);
    if (Date.now() - acquiredAt + renewEveryMs > (this.o.lockTtlMs * 2) / 3) renewLease();
    const renew = setInterval(renewLease, renewEveryMs);
    try {
      seqFrom = (await appendUser()).seq;
      logger.info('run started', { userId: ctx.userId });
      for await (const event of this.o.agent.stream({ ...base, userId: ctx.userId, text: frame.text, signal: run.controller.signal, tier: frame.tier })) {
        if (done) break;
        switch (event.type) {
          case 'token':
            writer.push(tokenFrame(base, event));
            break;
          case 'tool-start':
            tools.push({ callId: event.callId, name: event.name, input: event.input });
            writer.push(toolStartFrame(base, event));
            break;
          case 'tool-end': {
            const t = tools.find((x) => x.callId === event.callId);
            if (t) Object.assign(t, { output: event.output, error: event.error });
            writer.push(toolEndFrame(base, event));
            break;
          }
          case 'error':
            this.o.notify?.(ctx.connectionId, agentErrorFrame(base, event, frame.id));
            break;
          case 'done':
            done = doneFrame(base, event, abortReason(run.controller.signal));
            break;
        }
      }
    } catch (e) {
      if (!lost(e)) {
        logger.error('run stream failed', { error: e instanceof Error ? e.message : String(e) });
        done = failedDone(base);
      }
    }
    done ??= endedWithoutDone(base, abortReason(run.controller.signal));
    if (traceId) done = { ...done, traceId };
    // A run that failed before its `user` frame was written (Redis away) writes it before its
    // `done`, so clients see the run whole, not only its end (chaos saw a run that was only its done).
    const writeUser = async () => {
      if (seqFrom > 0 || fenced) return;
      const last = await hub.lastFrame(frame.sessionId);
      // Written after all (its reply was lost with the connection): not twice.
      if (last?.runId === run.runId) {
        if (last.type === 'user') seqFrom = last.seq;
        return;
      }
      seqFrom = (await appendUser()).seq;
    };
    // The record (transcript rows, usage, the run's end) is written before the `done`, so a run
    // whose `done` any client saw is recorded as ended: no sweep or watcher ends it a second time,
    // not even after Redis lost the log that held the `done`. A run not recorded as ended has
    // therefore never written its `done` (DESIGN §3, exactly once).
    let recorded = false;
    // Whether a write of the `done` failed in a way that may have landed after all.
    let doneMayHaveLanded = false;
    const record = async (end: Omit<DoneFrame, 'seq'>, doneSeq: number) => {
      if (recorded) return;
      recorded = true;
      await this.o.hooks
        ?.afterRun?.({ userId: ctx.userId, sessionId: frame.sessionId, runId: run.runId, clientMessageId: frame.id, text: frame.text, answer: written, tools, done: end, seqFrom, seqTo: doneSeq })
        .catch((e) => logger.warn('after-run hook failed', { error: String(e) }));
    };
    // Whether the log took the run's `done`: a run whose `done` could not be written is left to
    // be ended like a fenced one (its own check once the lease is free, or the sweep).
    let ended = false;
    // Whether the log released the lease with the `done`.
    let released = false;
    if (!fenced) {
      // Whether the log holds every frame of the answer, and `written` what it holds.
      let settled = false;
      try {
        await writeUser();
        await writer.flush();
        settled = true;
      } catch (e) {
        // A failed batch: the frames after it are not written; the `done` gets its own write,
        // tried again while Redis is away (the lease is still renewed meanwhile; a takeover fences it).
        if (!lost(e)) logger.error('could not write the run frames', { error: String(e) });
      }
      for (let attempt = 1; !fenced; attempt++) {
        try {
          if (!settled) {
            await writeUser();
            // A write that failed may still have landed (its reply was lost with the connection):
            // what the run wrote is what the log holds.
            written = (await this.writtenText(frame.sessionId, run.runId, seqFrom)) ?? written;
            settled = true;
          }
          await record(done, Math.max(seqTo, writer.lastSeq) + 1);
          // The batch with the `done` releases the lease where the log can (renewals stop first).
          releasing = releaseOnEnd;
          const [last] = await hub.appendBatch([done], batchOptions);
          seqTo = last!.seq;
          released = releaseOnEnd;
          ended = true;
          break;
        } catch (e) {
          // Not written with the `done`: the lease is released below, as without `releaseOnEnd`.
          releasing = false;
          // A failure other than a refusal may have landed (its reply lost with the connection).
          if (recorded && !(e instanceof LeaseLostError)) doneMayHaveLanded = true;
          if (lost(e)) break;
          if (attempt >= END_WRITE_ATTEMPTS) {
            logger.error('could not write done', { error: String(e) });
            break;
          }
          await sleep(Math.min(2_000, 100 * 2 ** attempt));
        }
      }
    }
    // The lease is renewed until the last frame is written: frames still queued when the agent
    // ended must not outlive it.
    clearInterval(renew);
    seqTo = Math.max(seqTo, writer.lastSeq);
    if (!released) await this.o.lock.release(frame.sessionId, run.runId).catch(() => {});
    if (!ended) {
      // The node that took the session over writes this run's `done` and completes its record;
      // a run whose `done` could not be written is ended the same way (its record from the log).
      logger.warn(fenced ? 'run ended without its done: it lost its lease' : 'run ended without its done: the log did not take it', { ms: Date.now() - started });
      // A recorded run was charged with its record.
      if (!recorded)
        await this.o.hooks
          ?.fencedRun?.({ userId: ctx.userId, sessionId: frame.sessionId, runId: run.runId, done })
          .catch((e) => logger.error('charging a fenced run failed', { error: String(e) }));
      void this.endFenced(frame.sessionId, run.runId, recorded && !doneMayHaveLanded ? userFrame : undefined).catch((e) => logger.warn('ending a fenced run failed', { error: String(e) }));
      return;
    }
    logger.info('run ended', { reason: done.reason, ms: Date.now() - started, frames: seqTo - seqFrom + 1 });
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The `done` a run gets from another node when its own node died or it lost its lease. */
const lostDone = (sessionId: string, runId: string): SessionFrameInput => ({
  type: 'done',
  sessionId,
  runId,
  reason: 'error',
  error: { code: 'node_lost', message: 'the node running this run stopped; send again to retry' },
});
