import type { RedisClient } from '../backends/redis/client.js';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { DEFAULT_KEY_PREFIX } from '../backends/redis/script.js';
import { createSocketLimit } from './socket-limit.js';
import {
  DEFAULT_LIMITS,
  type LimitDecision,
  type LimitName,
  type Limiters,
  type LimitsConfig,
  type RateLimit,
  type SocketSlot,
  type TokenBudget,
} from './types.js';

/** Options of {@link createLimiters} beyond the limits themselves. */
export interface LimitersOptions {
  /** Prefix of every Redis key. @default 'sb:' */
  keyPrefix?: string;
  /** Clock for the daily budget's UTC day. @default Date.now */
  now?: () => number;
  /** See {@link SocketLimitOptions.ttlMs}. @default 1800000 (30 min) */
  socketCountTtlMs?: number;
}

const DAY_MS = 24 * 60 * 60 * 1000;
const OK: LimitDecision = { ok: true };

function checkConfig(config: LimitsConfig): LimitsConfig {
  for (const [name, value] of Object.entries(config)) {
    const min = name === 'dailyTokenBudget' ? 0 : 1;
    if (!Number.isSafeInteger(value) || value < min) throw new RangeError(`limits.${name} must be an integer >= ${min}, got ${value}`);
  }
  return config;
}

function checkKey(name: string, key: unknown): string {
  if (typeof key !== 'string' || key === '') throw new TypeError(`${name} must be a non-empty string`);
  return key;
}

/** Turns rate-limiter-flexible's rejection (a RateLimiterRes) into a decision; rethrows real errors. */
async function decide(limit: LimitName, run: () => Promise<unknown>, code: 'rate_limited' | 'quota_exceeded' = 'rate_limited', retryAfterMs?: () => number): Promise<LimitDecision> {
  try {
    await run();
    return OK;
  } catch (error) {
    if (!(error instanceof RateLimiterRes)) throw error;
    return { ok: false, code, retryAfterMs: retryAfterMs?.() ?? Math.max(1, error.msBeforeNext), limit };
  }
}

/**
 * The gateway's limiters. With `redis`, the per-user and per-IP limits count once across every
 * node (rate-limiter-flexible on Redis) and fall back to per-node memory counting while Redis is
 * not ready (the insurance limiter), so limits keep working; without it, everything is in memory.
 * Checks answer a {@link LimitDecision} and never throw on a limit.
 * @example
 * const limits = createLimiters({ sendsPerMinute: 10 }, redis);
 * const d = await limits.sends.consume(userId);
 * if (!d.ok) socket.send({ type: 'error', code: d.code, retryAfterMs: d.retryAfterMs, … });
 */
export function createLimiters(config: Partial<LimitsConfig> = {}, redis?: RedisClient, options: LimitersOptions = {}): Limiters {
  const limits = checkConfig({ ...DEFAULT_LIMITS, ...config });
  const prefix = `${options.keyPrefix ?? DEFAULT_KEY_PREFIX}rl:`;
  const now = options.now ?? Date.now;

  const make = (name: string, points: number, duration: number): RateLimiterAbstract => {
    const memory = new RateLimiterMemory({ keyPrefix: name, points, duration });
    if (!redis) return memory;
    // not-ready fails fast into the insurance limiter instead of queueing behind a reconnect
    return new RateLimiterRedis({ storeClient: redis, keyPrefix: `${prefix}${name}`, points, duration, insuranceLimiter: memory, rejectIfRedisNotReady: true });
  };
  const rate = (limit: LimitName, limiter: RateLimiterAbstract, keyName: string): RateLimit => ({
    consume: (key) => decide(limit, () => limiter.consume(checkKey(keyName, key))),
  });

  // A sustained rate with bursts: `messageBurst` points per window of burst/rate seconds.
  const messages = new RateLimiterMemory({
    points: limits.messageBurst,
    duration: Math.max(1, Math.round(limits.messageBurst / limits.messagesPerSecond)),
  });

  // Refusals are reported to subscribers (metrics) as they are decided; nothing wraps the limiters.
  const listeners: Array<(limit: LimitName) => void> = [];
  const report = async <T extends LimitDecision | SocketSlot>(decision: Promise<T>): Promise<T> => {
    const d = await decision;
    if (!d.ok) for (const listener of listeners) listener(d.limit);
    return d;
  };
  const reported = (r: RateLimit): RateLimit => ({ consume: (key) => report(r.consume(key)) });
  const sockets = createSocketLimit({ max: limits.socketsPerUser, redis, keyPrefix: `${prefix}sockets:`, ttlMs: options.socketCountTtlMs });
  const tokens = tokenBudget(limits.dailyTokenBudget, make('tokens', Math.max(1, limits.dailyTokenBudget), 2 * DAY_MS / 1000), now);

  return {
    config: Object.freeze({ ...limits }),
    messages: reported(rate('messages', messages, 'connectionId')),
    sends: reported(rate('sends', make('sends', limits.sendsPerMinute, 60), 'userId')),
    connections: reported(rate('connections', make('conn', limits.connectionsPerIpPerMinute, 60), 'ip')),
    sockets: { acquire: (userId) => report(sockets.acquire(userId)), count: (userId) => sockets.count(userId) },
    tokens: { check: (userId) => report(tokens.check(userId)), consume: (userId, n) => tokens.consume(userId, n), remaining: (userId) => tokens.remaining(userId) },
    loginAttempts: (o) => make(o.keyPrefix, o.points, o.duration),
    onDenied: (listener) => void listeners.push(listener),
    backend: () => (!redis ? 'memory' : redis.status === 'ready' ? 'redis' : 'redis-insurance'),
  };
}

/** The daily budget: one counter per user and UTC day (kept two days), refusals last until midnight. */
function tokenBudget(budget: number, limiter: RateLimiterAbstract, now: () => number): TokenBudget {
  const dayKey = (userId: string) => `${checkKey('userId', userId)}:${new Date(now()).toISOString().slice(0, 10)}`;
  const untilMidnight = () => DAY_MS - (now() % DAY_MS);
  const exceeded = (): LimitDecision => ({ ok: false, code: 'quota_exceeded', retryAfterMs: untilMidnight(), limit: 'tokens' });
  const used = async (userId: string) => (await limiter.get(dayKey(userId)))?.consumedPoints ?? 0;

  return {
    async check(userId) {
      if (budget === 0) return OK;
      return (await used(userId)) >= budget ? exceeded() : OK;
    },
    async consume(userId, tokens) {
      if (!Number.isSafeInteger(tokens) || tokens < 0) throw new RangeError(`tokens must be an integer >= 0, got ${tokens}`);
      if (budget === 0) return OK;
      if (tokens === 0) return this.check(userId);
      return decide('tokens', () => limiter.consume(dayKey(userId), tokens), 'quota_exceeded', untilMidnight);
    },
    async remaining(userId) {
      if (budget === 0) return Number.POSITIVE_INFINITY;
      return Math.max(0, budget - (await used(userId)));
    },
  };
}
