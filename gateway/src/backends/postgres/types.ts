/**
 * The storage contract: everything the gateway keeps durably. Two implementations pass the same
 * contract suite: PGlite (embedded, in a data directory or in memory) and server Postgres (`pg`
 * pool). All methods are async; DTOs are camelCase, timestamps ISO-8601 strings, ids uuids.
 * Ids that are not uuids are treated as "no such row" (null / false / 0), never as a driver error.
 */

import type { MemoryHit, MemoryRecord } from '@switchboard/agent-core';

/** A registered user. Never carries the password hash. */
export interface User {
  id: string;
  email: string;
  createdAt: string;
}

/** A user together with its password hash; only `users.findByEmail` returns it (for login). */
export type UserWithPassword = User & { passwordHash: string };

/** A stored refresh token (the token itself is never stored, only its hash). */
export interface RefreshTokenRecord {
  id: string;
  userId: string;
  familyId: string;
  expiresAt: string;
  /** When it was used (rotated) or revoked; null while it is valid. */
  revokedAt: string | null;
  /** The id of the token that replaced it on rotation. */
  replacedBy: string | null;
}

/** A chat session. */
export interface Session {
  id: string;
  title: string | null;
  createdAt: string;
  updatedAt: string;
}

export type MessageRole = 'user' | 'assistant' | 'tool';

/** One transcript entry. */
export interface Message {
  id: string;
  sessionId: string;
  runId: string;
  role: MessageRole;
  content: string;
  /** First and last frame `seq` this message was streamed with, when known. */
  seqFrom: number | null;
  seqTo: number | null;
  /** The client's message id (`send.id`) for user messages. */
  clientMessageId: string | null;
  /** The tool's name for `tool` messages. */
  toolName: string | null;
  createdAt: string;
}

export interface AppendMessageInput {
  sessionId: string;
  runId: string;
  role: MessageRole;
  content: string;
  seqFrom?: number;
  seqTo?: number;
  clientMessageId?: string;
  toolName?: string;
  /**
   * A send's user row, stored before its ack: it opens the run, which counts as acked and not
   * ended until the run's record ({@link RunRecordRepository.record}) closes it.
   */
  opensRun?: boolean;
}

/**
 * One page of a transcript. Pages go backwards in time (the first page holds the newest
 * messages), but the messages inside a page are in chronological order (oldest first), ready to
 * render. `nextCursor` is passed as `before` to get the next older page; null when there is none.
 */
export interface MessagePage {
  messages: Message[];
  nextCursor: string | null;
}

/** Memories are agent-core's records; the storage only keeps them. */
export type { MemoryHit, MemoryRecord } from '@switchboard/agent-core';

export interface UserRepository {
  /** @throws ConflictError (code `conflict`) when the email is taken, compared case-insensitively. */
  create(input: { email: string; passwordHash: string }): Promise<User>;
  /** Case-insensitive lookup. */
  findByEmail(email: string): Promise<UserWithPassword | null>;
  findById(id: string): Promise<User | null>;
}

export interface RefreshTokenRepository {
  /** Stores a new token of a family. `familyId` and `userId` must be uuids. */
  create(input: { userId: string; familyId: string; tokenHash: string; expiresAt: Date | string }): Promise<RefreshTokenRecord>;
  findByHash(tokenHash: string): Promise<RefreshTokenRecord | null>;
  /**
   * Marks token `id` as used and replaced by `replacedById`, atomically and only if it was still
   * valid. Returns false when it had already been used or revoked: that is reuse, and the caller
   * should revoke the family.
   */
  rotate(id: string, replacedById: string): Promise<boolean>;
  /**
   * True while a family (one sign-in) still holds a token of `userId` that is neither used nor
   * revoked nor expired: the login is live. Logout, reuse detection and a deleted user end it.
   */
  isFamilyLive(familyId: string, userId: string): Promise<boolean>;
  /** Revokes every still-valid token of a family; returns how many. */
  revokeFamily(familyId: string): Promise<number>;
  /** Revokes every still-valid token of a user; returns how many. */
  revokeAllForUser(userId: string): Promise<number>;
}

export interface SessionRepository {
  create(userId: string, input?: { title?: string | null }): Promise<Session>;
  /**
   * The user's sessions, most recently updated first. `before` is a session id from a previous
   * page: the result continues after it. @default limit 50 (max 200)
   */
  list(userId: string, options?: { limit?: number; before?: string }): Promise<Session[]>;
  /** Null when it does not exist or belongs to another user. */
  get(userId: string, id: string): Promise<Session | null>;
  update(userId: string, id: string, input: { title: string | null }): Promise<Session | null>;
  /** Deletes the session with its transcript and its LangGraph checkpoints. */
  delete(userId: string, id: string): Promise<boolean>;
  /** Bumps `updatedAt` (no owner check: the caller already holds the session). */
  touch(id: string): Promise<void>;
  /**
   * Raises the session's durable `seq` reservation to `max(reserved, atLeast) + block` and
   * returns it before (`floor`) and after (`ceiling`); null when there is no such session.
   */
  reserveSeq(id: string, atLeast: number, block: number): Promise<{ floor: number; ceiling: number } | null>;
  /** The user a session belongs to, or null (for a run whose node died: its record is completed elsewhere). */
  owner(id: string): Promise<string | null>;
}

export interface MessageRepository {
  /**
   * Appends to a session's transcript and bumps the session's `updatedAt`.
   * @throws NotFoundError when the session does not exist.
   * @throws ConflictError when a user message with the same `clientMessageId` is already stored.
   */
  append(input: AppendMessageInput): Promise<Message>;
  /** See {@link MessagePage}. @default limit 50 (max 200) */
  list(sessionId: string, options?: { before?: string; limit?: number }): Promise<MessagePage>;
}

/** What a finished run leaves in the database (see {@link RunRecordRepository.record}). */
export interface RunRecordInput {
  userId: string;
  sessionId: string;
  runId: string;
  /** The `seq` range of the run's user message (stored at the send, before the ack). */
  userSeq?: { from: number; to: number };
  /** The run's tool and assistant rows, in order. */
  rows: Array<{ role: 'assistant' | 'tool'; content: string; seqFrom?: number; seqTo?: number; toolName?: string }>;
  /** Tokens to add to the user's usage of `day` (UTC `YYYY-MM-DD`). */
  usage?: { day: string; tokens: number };
  /** Becomes the session's title if it has none. */
  title?: string;
  /** The run's model spend, added to the user's (day, model) row as {@link SpendRepository.add} does. */
  spend?: RunSpend;
}

export interface RunRecordRepository {
  /**
   * Writes a finished run in one transaction: the user message's `seq` range, the tool and
   * assistant rows, the session's `updated_at` and (if untitled) title, the token usage and the spend.
   * It also records the run's end ({@link RunEndRepository}); a run whose end is recorded already
   * keeps its rows and range (usage, spend and title are still written).
   * @throws NotFoundError when the session (of this user) is gone
   */
  record(input: RunRecordInput): Promise<void>;
}

/** An acked run whose end is not recorded. */
export interface UnendedRun {
  sessionId: string;
  runId: string;
  /** The user message that started the run, as stored at the send. */
  text: string;
  clientMessageId: string | null;
}

/**
 * The durable record of which acked runs have ended: a run is open from its user row (stored
 * with `opensRun` before the ack) until its record closes it. It outlives Redis losing its data,
 * so a run that ended while nobody watched is never ended a second time, and one that never ended
 * (its node died) is found even when no node saw it open. A second record of a closed run adds
 * no rows (the transcript is written once).
 */
export interface RunEndRepository {
  /** Open runs whose user row is older than `olderThanMs`, oldest first, at most `limit`. */
  unended(olderThanMs: number, limit: number): Promise<UnendedRun[]>;
  /** True when the run's end is recorded; false while it is open or unknown (no such run). */
  ended(sessionId: string, runId: string): Promise<boolean>;
  /**
   * Removes the user row of a send that was refused after all (its write failed, yet may have
   * landed), while its run is open: a run that never started is not ended later by the sweep.
   */
  discard(sessionId: string, runId: string): Promise<void>;
}

export interface UsageRepository {
  /** Adds tokens to a user's UTC day (`YYYY-MM-DD`); returns the new total. */
  add(userId: string, day: string, tokens: number): Promise<number>;
  get(userId: string, day: string): Promise<number>;
}

/** One run's model spend, added to its user's (day, model) row. */
export interface SpendInput {
  userId: string;
  /** UTC `YYYY-MM-DD`. */
  day: string;
  /** Configured model name (`done.model`). */
  model: string;
  inputTokens: number;
  outputTokens: number;
  /** Cost in nano-dollars (1e-9 USD), an integer. */
  costNanos: number;
  /** The answer came from a cache (counted in `cachedRuns`, cost 0). */
  cached: boolean;
}

/** A run's spend before it is written: its user is the run's (with its run record, or on its own). */
export type RunSpend = Omit<SpendInput, 'userId'>;

/** A user's spend on one model on one day. */
export interface SpendRow {
  day: string;
  model: string;
  inputTokens: number;
  outputTokens: number;
  costNanos: number;
  runs: number;
  cachedRuns: number;
}

export interface SpendRepository {
  /** Adds one run to the user's (day, model) row. @throws NotFoundError when the user is gone */
  add(input: SpendInput): Promise<void>;
  /** The user's rows from `fromDay` (inclusive) on, newest day first. */
  list(userId: string, fromDay: string): Promise<SpendRow[]>;
  /** The user's cost on `day`, in nano-dollars. */
  userTotal(userId: string, day: string): Promise<number>;
  /** Every user's cost on `day`, in nano-dollars (the global daily limit). */
  globalTotal(day: string): Promise<number>;
}

/** A cached answer found for a question similar to an earlier one of the same user. */
export interface QuestionHit {
  question: string;
  /** What was stored with the question (the serialized answer). */
  answer: string;
  /** Cosine similarity, 1 = the same direction. */
  score: number;
}

/** The semantic cache's store: each user's earlier questions, searched by similarity within that user only. */
export interface QuestionCacheRepository {
  add(userId: string, input: { tier: string; question: string; embedding: number[]; answer: string; ttlMs: number }): Promise<void>;
  /** The most similar unexpired question of this user in this tier, or null. */
  nearest(userId: string, tier: string, embedding: number[]): Promise<QuestionHit | null>;
}

/** A user's thumbs up or down on one run of a session. */
export interface FeedbackInput {
  userId: string;
  sessionId: string;
  runId: string;
  score: 1 | -1;
  comment?: string;
  /** The run's trace id, when it had one. */
  traceId?: string;
}

export interface FeedbackRepository {
  /** Stores a user's feedback on a run; a second vote by the same user on the same run replaces the first. */
  record(input: FeedbackInput): Promise<void>;
  /** Whether the session's transcript has a turn of `runId`. */
  hasRun(sessionId: string, runId: string): Promise<boolean>;
  /** The user's feedback on a run, if any. */
  get(userId: string, runId: string): Promise<{ score: 1 | -1; comment: string | null; traceId: string | null } | null>;
}

/** Per-user vector memory; structurally the agent-core `MemoryStore`. */
export interface MemoryRepository {
  add(userId: string, input: { text: string; embedding: number[] }): Promise<MemoryRecord>;
  /** The `k` most similar memories of this user only, best first. */
  search(userId: string, embedding: number[], k: number): Promise<MemoryHit[]>;
  /** All memories of a user, newest first. */
  list(userId: string): Promise<MemoryRecord[]>;
  /** Deletes one memory, or all of the user's when `id` is omitted; returns how many. */
  delete(userId: string, id?: string): Promise<number>;
}

export type StorageKind = 'pglite' | 'postgres';

/** The whole persistence layer of one gateway process. */
export interface Storage {
  readonly kind: StorageKind;
  /** Whether pgvector is in use (HNSW-indexed memory search); otherwise exact cosine in JS. */
  readonly hasVector: boolean;
  readonly users: UserRepository;
  readonly refreshTokens: RefreshTokenRepository;
  readonly sessions: SessionRepository;
  readonly messages: MessageRepository;
  readonly usage: UsageRepository;
  /** Model spend per user, day and model. */
  readonly spend: SpendRepository;
  /** The semantic cache's questions (per user). */
  readonly questions: QuestionCacheRepository;
  readonly memories: MemoryRepository;
  /** A finished run's rows, usage and title in one transaction. */
  readonly runs: RunRecordRepository;
  /** Which acked runs have ended (opened by a send's user row, closed by the run's record). */
  readonly runEnds: RunEndRepository;
  readonly feedback: FeedbackRepository;
  /** Resolves when the database answers a trivial query (for `/readyz`). */
  ping(): Promise<void>;
  /** Closes the database; further calls fail. Safe to call twice. */
  close(): Promise<void>;
}

/** Minimal logger (winston-compatible). */
export interface StorageLogger {
  info(message: string, meta?: Record<string, unknown>): void;
  warn(message: string, meta?: Record<string, unknown>): void;
  error(message: string, meta?: Record<string, unknown>): void;
}

export interface OpenStorageOptions {
  /** Server Postgres connection string; when set, `dataDir` is ignored. */
  databaseUrl?: string;
  /**
   * PGlite data directory (e.g. `<DATA_DIR>/pg`), created when missing.
   * @default in-memory (nothing survives `close`) when neither this nor `databaseUrl` is set
   */
  dataDir?: string;
  /**
   * Server Postgres schema for every table (set as the connection's `search_path`, created when
   * missing). Lets parallel test suites share one database.
   * @default 'public'
   */
  schema?: string;
  /**
   * Use pgvector when it is available. `false` forces the exact-cosine fallback.
   * @default true
   */
  vector?: boolean;
  /** Server Postgres pool size. @default 10 */
  poolMax?: number;
  logger?: StorageLogger;
}
