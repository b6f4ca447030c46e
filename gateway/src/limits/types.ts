import type { RateLimiterAbstract } from 'rate-limiter-flexible';

/** Every per-connection, per-user and per-IP limit the gateway enforces, with its default. */
export interface LimitsConfig {
  /** Inbound frames per second one connection may sustain (checked on its node). @default 20 */
  messagesPerSecond: number;
  /** Inbound frames one connection may send in a burst. @default 40 */
  messageBurst: number;
  /** `send` frames (runs started) per user per minute, across all nodes. @default 30 */
  sendsPerMinute: number;
  /** New connections per client IP per minute, across all nodes. @default 120 */
  connectionsPerIpPerMinute: number;
  /** Open sockets per user at once, across all nodes. @default 20 */
  socketsPerUser: number;
  /** Model tokens per user per UTC day, across all nodes; 0 turns the budget off. @default 200000 */
  dailyTokenBudget: number;
  /** Sign-ups per client IP per hour, across all nodes (each one costs an scrypt hash). @default 20 */
  registrationsPerIpPerHour: number;
  /** Sessions a user may create per minute, across all nodes. @default 30 */
  sessionsPerUserPerMinute: number;
}

export const DEFAULT_LIMITS = {
  messagesPerSecond: 20,
  messageBurst: 40,
  sendsPerMinute: 30,
  connectionsPerIpPerMinute: 120,
  socketsPerUser: 20,
  dailyTokenBudget: 200_000,
  registrationsPerIpPerHour: 20,
  sessionsPerUserPerMinute: 30,
} as const satisfies LimitsConfig;

/** Which limit refused. */
export type LimitName = 'messages' | 'sends' | 'connections' | 'sockets' | 'tokens' | 'registrations' | 'sessions';

/** A refusal: `rate_limited` (wait `retryAfterMs`) or `quota_exceeded` (the day's budget is spent). */
export interface LimitDenied {
  ok: false;
  code: 'rate_limited' | 'quota_exceeded';
  /** When trying again can succeed, in ms (for `Retry-After` and `error.retryAfterMs`). */
  retryAfterMs: number;
  limit: LimitName;
}

/** The answer of every check; a limit never throws. */
export type LimitDecision = { ok: true } | LimitDenied;

/** A rate limit keyed by connection, user or IP. */
export interface RateLimit {
  /** Counts one event for `key`; refused once the key used up its points for the window. */
  consume(key: string): Promise<LimitDecision>;
}

/** A held socket slot; `release` when the socket closes (idempotent). */
export type SocketSlot = { ok: true; release(): Promise<void> } | LimitDenied;

/** Concurrent sockets per user. */
export interface SocketLimit {
  acquire(userId: string): Promise<SocketSlot>;
  /** Sockets the user holds now (as far as this limiter can see). */
  count(userId: string): Promise<number>;
}

/** The daily model-token budget per user (resets at 00:00 UTC). */
export interface TokenBudget {
  /** Whether the user may start a run: refused with `quota_exceeded` once the budget is spent. */
  check(userId: string): Promise<LimitDecision>;
  /** Charges tokens a run used; `quota_exceeded` when this charge went over the budget. */
  consume(userId: string, tokens: number): Promise<LimitDecision>;
  /** Tokens left today. */
  remaining(userId: string): Promise<number>;
}

/** The gateway's limiters, by name. */
export interface Limiters {
  readonly config: Readonly<LimitsConfig>;
  /** Inbound frames per connection (in memory: a connection lives on one node). */
  messages: RateLimit;
  /** Runs started per user per minute. */
  sends: RateLimit;
  /** New connections per IP per minute. */
  connections: RateLimit;
  /** Sign-ups per IP per hour. */
  registrations: RateLimit;
  /** Sessions created per user per minute. */
  sessions: RateLimit;
  sockets: SocketLimit;
  tokens: TokenBudget;
  /** A raw limiter for login attempts (the auth service keys it by email and by IP itself). */
  loginAttempts(options: { keyPrefix: string; points: number; duration: number }): RateLimiterAbstract;
  /** Subscribes to refusals of `messages`, `sends`, `connections`, `sockets` and `tokens.check` (metrics). */
  onDenied(listener: (limit: LimitName) => void): void;
  /** Where the shared limits are counted right now. */
  backend(): 'memory' | 'redis' | 'redis-insurance';
}
