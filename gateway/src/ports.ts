/**
 * What a backend must provide: every interface the gateway core runs on, with its duty. The
 * implementations live by technology under `backends/` (`memory/`, `redis/`, `postgres/`) and
 * `backends/index.ts` picks them from the configuration. One shared suite per interface under
 * `test/contracts/` runs against every implementation.
 *
 * - {@link SessionLog}: the per-session frame log that assigns `seq` (replay, resume), fenced by
 *   the run lease, in epochs.
 * - {@link SeqReservations}: the durable high-water mark of `seq` a recreated log numbers above.
 * - {@link PubSub}: the session bus that moves frames and run control between nodes.
 * - {@link RunLock}: one run per session across all nodes.
 * - {@link IdempotencyStore}: a repeated `send` gets the same run.
 * - {@link ResumeRegistry}: what a closed connection was attached to, for `hello{resume}`.
 * - {@link Limiters}: rate limits, the socket limit and the daily token budget.
 * - {@link Storage}: users, sessions, transcript, refresh tokens, usage (PGlite or Postgres).
 * - {@link MemoryStore}: long-term memories with similarity search (part of `Storage`).
 * - {@link SpendCounters}: today's model spend per user and for the deployment (the spend limits' hot path).
 * - {@link CacheStore}: short-lived values with a TTL (answer and tool-result caches).
 * - {@link AgentRunner}: the agent a run streams from.
 * - {@link ReadinessProbe}: a dependency `/readyz` and `switchboard_dependency_up` check.
 * - {@link Instrumentation}: the one set of events metrics and traces subscribe to.
 */
import type { AgentEvent, MemoryStore, ModelChainEvent } from '@switchboard/agent-core';
import type { ServerFrame, SessionFrame, SessionFrameInput } from '@switchboard/protocol';
import type { Limiters } from './limits/types.js';
import type { Storage } from './backends/postgres/types.js';

export type { Limiters, MemoryStore, Storage };

/** What `readAfter` returns. */
export interface ReadResult {
  /** Frames with `seq > after`, oldest first. */
  frames: SessionFrame[];
  /** True when the log no longer holds `after + 1` (trimmed by retention). */
  gap: boolean;
  /** The last `seq` the session's log has assigned (0 when none). */
  lastSeq: number;
  /**
   * The log's epoch: a random id that changes whenever the log is recreated (its store lost it),
   * '' while nothing was ever appended. `seq`s of one session never repeat across epochs.
   */
  epoch: string;
}

/** Retention of a session log. */
export interface LogRetention {
  /** Most frames kept per session. @default 10000 */
  maxFrames: number;
  /** Oldest frame kept, in ms. @default 86400000 (24 h) */
  maxAgeMs: number;
}

/** A frame as `appendBatch` wrote it, with its JSON (serialized once, `seq` last). */
export interface AppendedFrame {
  frame: SessionFrame;
  json: string;
  /** The epoch of the log the frame went into. */
  epoch: string;
}

/** Options of {@link SessionLog.append}. */
export interface AppendOptions {
  /**
   * The run lease the writer holds (the run lock's holder value). The log refuses the frames
   * ({@link LeaseLostError}) when another lease holds the session's lock — or, with the lock
   * free, when another lease wrote last — and any frame of a run whose `done` it already holds.
   * Without it nothing is checked.
   */
  lease?: string;
  /**
   * Writes only when the session's last frame is a `done`, belongs to the writer's own run, or
   * there is none; else refuses ({@link PreviousRunOpenError}, naming that run) and writes nothing.
   * A run's `user` frame carries it: the check and the write are one step, not a read first.
   */
  ifPreviousEnded?: boolean;
}

/** Options of {@link SessionLog.appendBatch}. */
export interface AppendBatchOptions extends AppendOptions {
  /**
   * A bus channel on which each frame is also published, as `<seq> <epoch> <json>`, in the same step as
   * the append. Only honoured by a log whose `publishes` is true (it shares its server with the bus).
   */
  publish?: string;
  /**
   * When the batch holds the run's `done`, the run lock is released in the same step (if `lease`
   * still holds it). Only honoured by a log whose `releasesLease` is true.
   */
  releaseOnEnd?: boolean;
}

/** A log refused an append: the writer's run lease was taken over, or the run already ended. */
export class LeaseLostError extends Error {
  readonly code = 'lease_lost';
  constructor(sessionId: string, runId: string) {
    super(`session ${sessionId}: run ${runId} lost its lease or already ended; the log refused its frames`);
    this.name = 'LeaseLostError';
  }
}

/** A log refused a run's frames because the session's previous run has frames but no `done`. */
export class PreviousRunOpenError extends Error {
  readonly code = 'previous_run_open';
  constructor(
    sessionId: string,
    /** The run whose last frame is the log's last, without a `done`. */
    readonly previousRunId: string,
  ) {
    super(`session ${sessionId}: the previous run ${previousRunId} never ended`);
    this.name = 'PreviousRunOpenError';
  }
}

/**
 * The durable high-water mark of a session's `seq` (Postgres): a log hands out no `seq` above
 * what is reserved, and a recreated log starts above it, so a `seq` is never reused.
 */
export interface SeqReservations {
  /**
   * Raises the reservation to at least `atLeast` plus a block; returns the reservation before
   * (`floor`: every `seq` ever handed out is at most it) and after (`ceiling`).
   */
  reserve(sessionId: string, atLeast: number): Promise<{ floor: number; ceiling: number }>;
}

/**
 * The per-session frame log. `append` assigns `seq` atomically — across every gateway node for
 * the Redis implementation — so `seq` is contiguous from 1 within an epoch, the same everywhere,
 * and (with {@link SeqReservations}) never reused after the log was recreated.
 */
export interface SessionLog {
  append(frame: SessionFrameInput, options?: AppendOptions): Promise<SessionFrame>;
  /**
   * Appends frames of one session in order, in one step (one round trip on Redis): the batch of a
   * run's frames that waited while the previous batch was being written.
   */
  appendBatch(frames: SessionFrameInput[], options?: AppendBatchOptions): Promise<AppendedFrame[]>;
  /** True when `appendBatch` can publish on the session bus in the same step. */
  readonly publishes?: boolean;
  /** True when `appendBatch` can release the run lock with the run's `done` (`releaseOnEnd`). */
  readonly releasesLease?: boolean;
  /**
   * Makes sure the session's log exists (a new one numbers above the durable reservation) and
   * returns its epoch, so a client joining before the first frame learns the epoch too.
   */
  open(sessionId: string): Promise<string>;
  /** @param limit most frames returned. @default 10000 */
  readAfter(sessionId: string, after: number, limit?: number): Promise<ReadResult>;
  lastSeq(sessionId: string): Promise<number>;
  /** Removes a session's log and its seq counter. */
  delete(sessionId: string): Promise<void>;
  close(): Promise<void>;
}

/**
 * Publish/subscribe of opaque strings. Backends only move messages; ordering, replay and
 * fan-out to sockets live above it. One handler per channel per process.
 */
export interface PubSub {
  /** True when every subscriber lives in this process: session frames need no round trip then. */
  readonly inProcess?: boolean;
  publish(channel: string, message: string): Promise<void>;
  subscribe(channel: string, handler: (message: string) => void): Promise<void>;
  unsubscribe(channel: string): Promise<void>;
  close(): Promise<void>;
}

/** One run per session across all nodes: a lease that the holder renews. */
export interface RunLock {
  /** Takes the lease when free (or already ours); false when another run holds it. */
  acquire(sessionId: string, runId: string, ttlMs: number): Promise<boolean>;
  /** Extends our lease; false when it was lost (expired and taken, or released). */
  renew(sessionId: string, runId: string, ttlMs: number): Promise<boolean>;
  /** Releases the lease if `runId` holds it. */
  release(sessionId: string, runId: string): Promise<void>;
  /** The run holding the lease, or null. */
  holder(sessionId: string): Promise<string | null>;
}

/**
 * Remembers client message ids so a repeated `send` gets the same run. `sessionId`, when given,
 * scopes the key to that session (the same key under two sessions is two keys); on a Redis Cluster
 * it keeps the key in the session's hash slot, beside its log and run lock.
 */
export interface IdempotencyStore {
  /** Stores `value` under `key` unless present; returns the value already stored, or null if we stored ours. */
  claim(key: string, value: string, ttlMs: number, sessionId?: string): Promise<string | null>;
  /** Removes `key` if it still holds `value` (a send that was refused must be retryable). */
  release(key: string, value: string, sessionId?: string): Promise<void>;
  /**
   * A send's first step: {@link claim}, and when the claim is ours, the run lease of `sessionId`
   * for `value` (as {@link RunLock.acquire} on the run lock of the same backend) — in one round
   * trip on Redis. `existing` is the value already stored (then no lease is taken); else `acquired`
   * says whether the lease was free. A store without it: the caller claims, then acquires.
   */
  claimAndAcquire?(key: string, value: string, ttlMs: number, sessionId: string, leaseTtlMs: number): Promise<ClaimAndAcquire>;
}

/** What {@link IdempotencyStore.claimAndAcquire} found. */
export type ClaimAndAcquire = { existing: string } | { existing: null; acquired: boolean };

/** What a closed connection was attached to, so a resume without `after` picks up where it left. */
export interface ResumeRecord {
  userId: string;
  /** Session id → the last `seq` the server wrote to that connection. */
  sessions: Record<string, number>;
  /** Session id → the epoch of the log those `seq`s belong to. */
  epochs?: Record<string, string>;
}

/** Short-lived records of closed connections, shared by every node (resume can land anywhere). */
export interface ResumeRegistry {
  save(connectionId: string, record: ResumeRecord, ttlMs: number): Promise<void>;
  load(connectionId: string): Promise<ResumeRecord | null>;
}

/** Spend of one UTC day, in nano-dollars (1e-9 USD, integers). */
export interface DaySpend {
  /** The user's. */
  user: number;
  /** The whole deployment's (every user, every node). */
  global: number;
}

/**
 * Today's model spend, counted once across every node: the hot path of the per-user and global
 * daily spend limits. A counter missing from the store (a restarted Redis, a new process) is seeded
 * from the database's spend rows before it is used.
 */
export interface SpendCounters {
  /** The user's and the deployment's spend on `day` (UTC `YYYY-MM-DD`). */
  get(userId: string, day: string): Promise<DaySpend>;
  /** Adds `nanos` to the user's and the deployment's `day`; returns the new totals. */
  add(userId: string, day: string, nanos: number): Promise<DaySpend>;
}

/** Short-lived values by key, with a TTL: the answer and tool-result caches. Keys are already scoped (user, tier, …). */
export interface CacheStore {
  get(key: string): Promise<string | null>;
  set(key: string, value: string, ttlMs: number): Promise<void>;
}

/** The part of the agent the gateway drives. */
export interface AgentRunner {
  /** `tier`: the tier a client asked for (`send.tier`), when it did; the runner decides whether it applies. */
  /** `onModelEvent`: the model chain's events of this run's requests (the run's traces get them without an async context). */
  stream(input: { sessionId: string; userId: string; runId: string; text: string; signal: AbortSignal; tier?: string; onModelEvent?: (event: ModelChainEvent) => void }): AsyncIterable<AgentEvent>;
}

/** A dependency check for `/readyz` and the `switchboard_dependency_up` gauge; throws when down. */
export interface ReadinessProbe {
  name: string;
  check(): Promise<void>;
}

/**
 * The events the gateway core reports, in one interface: components call it at the point where a
 * thing happens; metrics (and traces, for runs) implement it. Every method must be cheap enough
 * for the per-frame path. `createObservability` gives the gateway's implementation; tests and
 * embedders may pass {@link NO_INSTRUMENTATION}.
 */
export interface Instrumentation {
  /** A socket was accepted by the transport. */
  socketOpened(): void;
  /** A socket closed with `code` (either side). */
  socketClosed(code: number): void;
  /** The server decided to close a socket with `code` (e.g. 4009 slow consumer). */
  serverClose(code: number): void;
  /** One inbound message of `bytes`, before any check. */
  bytesIn(bytes: number): void;
  /** One inbound frame of `type` (`invalid` when it did not parse). */
  frameIn(type: string): void;
  /** One frame written to one socket, with its serialized size. */
  frameOut(frame: ServerFrame, bytes: number): void;
  /** One session frame fanned out to `sockets` sockets of this node. */
  delivered(json: string, sockets: number): void;
  /** Frames replayed from the log on a join. */
  replayed(count: number): void;
  /** A limiter refused (`messages`, `sends`, `connections`, `sockets`, `tokens`, `login`). */
  limited(limit: string): void;
  /** One HTTP request answered; `route` is the matched pattern (or `unmatched`). */
  http(method: string, route: string, status: number, seconds: number): void;
  /** An event of the model chain (first token, failure, retry, fallback). */
  modelEvent(event: ModelChainEvent): void;
  /** A user's thumbs up (1) or down (-1) on a run. */
  feedback(score: 1 | -1): void;
  /** The router sent a run to `tier` by `rule` (`client`, `tools`, `length`, `depth`, `classifier`, `short`). */
  routed(tier: string, rule: string, runId?: string): void;
  /** A cache lookup (`answer`, `semantic` or `tool`) hit or missed. */
  cacheLookup(cache: 'answer' | 'semantic' | 'tool', hit: boolean): void;
  /** A daily spend limit refused a run (`before`) or cut one short (`during`). */
  spendLimit(limit: 'user' | 'global', phase: 'before' | 'during'): void;
  /** A run's model spend was charged: its cost and its user's total today (shared counter), in USD. */
  cost(charge: { model: string; tier?: string; usd: number; userId: string; userTodayUsd: number }): void;
}

/** An {@link Instrumentation} that records nothing. */
export const NO_INSTRUMENTATION: Instrumentation = {
  socketOpened() {},
  socketClosed() {},
  serverClose() {},
  bytesIn() {},
  frameIn() {},
  frameOut() {},
  delivered() {},
  replayed() {},
  limited() {},
  http() {},
  modelEvent() {},
  feedback() {},
  routed() {},
  cacheLookup() {},
  spendLimit() {},
  cost() {},
};

/**
 * The durable record of which acked runs have ended (Postgres, part of {@link Storage}): the
 * sweep of runs whose end went missing reads it, and a node about to write a lost run's `done`
 * asks it first, so a run that ended while no node watched is not ended twice.
 */
export type { RunEndRepository, UnendedRun } from './backends/postgres/types.js';
