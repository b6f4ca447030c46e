import type { SessionFrame, SessionFrameInput } from '@switchboard/protocol';
import type { RedisClient } from './client.js';
import { DEFAULT_RETENTION } from '../memory/session-log.js';
import { DEFAULT_KEY_PREFIX, redisScript, sessionKey } from './script.js';
import type { AppendedFrame, LogRetention, ReadResult, SessionLog } from '../../ports.js';

/** Options of {@link createRedisSessionLog}. */
export interface RedisSessionLogOptions {
  /** How much of each session's log is kept (count and age). @default { maxFrames: 10000, maxAgeMs: 86400000 } */
  retention?: Partial<LogRetention>;
  /** Prefix of every key. @default 'sb:' */
  keyPrefix?: string;
  /**
   * `appendBatch` may publish on the session bus in the same script: set when the bus is Redis
   * pub/sub on this same server (the Redis backends do). @default false
   */
  publishes?: boolean;
  /**
   * How long a session's `seq` counter outlives its last append. Longer than the frames' age on
   * purpose: a counter that expired would restart `seq` at 1 and clients would drop the new frames
   * as duplicates. Never shorter than `retention.maxAgeMs`. @default 2592000000 (30 days)
   */
  seqTtlMs?: number;
}

// Shared Lua: entries are `<seq>-0` with fields f (frame JSON without seq) and t (append time, ms,
// by the Redis server's clock so every node agrees). Trimming by age finds the first young entry
// by binary search over seq (t grows with seq), then XTRIM MINID: O(log n) per call.
const LUA_PRELUDE = `
local function nowMs()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function seqOf(id) return tonumber(string.match(id, '^(%d+)')) end
local function tOf(entry)
  local fields = entry[2]
  for i = 1, #fields, 2 do if fields[i] == 't' then return tonumber(fields[i + 1]) end end
  return 0
end
local function trimByAge(key, cutoff)
  local first = redis.call('XRANGE', key, '-', '+', 'COUNT', 1)[1]
  if not first or tOf(first) >= cutoff then return end
  local last = redis.call('XREVRANGE', key, '+', '-', 'COUNT', 1)[1]
  if tOf(last) < cutoff then redis.call('XTRIM', key, 'MAXLEN', 0) return end
  -- entries with id <= lo are old; the first entry with id >= hi is young
  local lo, hi = seqOf(first[1]), seqOf(last[1])
  while hi - lo > 1 do
    local mid = math.floor((lo + hi) / 2)
    local e = redis.call('XRANGE', key, string.format('%d-0', mid), '+', 'COUNT', 1)[1]
    if tOf(e) >= cutoff then hi = mid else lo = seqOf(e[1]) end
  end
  redis.call('XTRIM', key, 'MINID', string.format('%d-0', hi))
end
`;

// KEYS: stream, counter. ARGV: frame JSON, maxFrames, maxAgeMs, seqTtlMs. Returns the new seq.
// INCR and XADD in one script: seq order is stream order on every node.
const APPEND = redisScript(`${LUA_PRELUDE}
local now = nowMs()
local seq = redis.call('INCR', KEYS[2])
if seq == 1 then
  -- the counter was lost while frames remain: continue after them, never reuse a seq
  local last = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)[1]
  if last and seqOf(last[1]) >= seq then
    seq = seqOf(last[1]) + 1
    redis.call('SET', KEYS[2], seq)
  end
end
redis.call('XADD', KEYS[1], 'MAXLEN', ARGV[2], string.format('%d-0', seq), 'f', ARGV[1], 't', string.format('%d', now))
trimByAge(KEYS[1], now - tonumber(ARGV[3]))
redis.call('PEXPIRE', KEYS[1], ARGV[3])
redis.call('PEXPIRE', KEYS[2], ARGV[4])
return seq
`);

// KEYS: stream, counter. ARGV: maxFrames, maxAgeMs, seqTtlMs, channel ('' for none), then one
// frame JSON (without seq) per frame. Appends them with contiguous seqs and, with a channel,
// publishes each as `<seq> <json with seq last>` in the same step. Returns the first seq.
const APPEND_BATCH = redisScript(`${LUA_PRELUDE}
local now = nowMs()
local n = #ARGV - 4
local first = redis.call('INCRBY', KEYS[2], n) - n + 1
if first == 1 then
  local last = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)[1]
  if last and seqOf(last[1]) >= first then
    first = seqOf(last[1]) + 1
    redis.call('SET', KEYS[2], first + n - 1)
  end
end
local t = string.format('%d', now)
for i = 1, n do
  local seq = first + i - 1
  local f = ARGV[4 + i]
  local id = string.format('%d', seq)
  redis.call('XADD', KEYS[1], 'MAXLEN', ARGV[1], id .. '-0', 'f', f, 't', t)
  if ARGV[4] ~= '' then redis.call('PUBLISH', ARGV[4], id .. ' ' .. string.sub(f, 1, -2) .. ',"seq":' .. id .. '}') end
end
trimByAge(KEYS[1], now - tonumber(ARGV[2]))
redis.call('PEXPIRE', KEYS[1], ARGV[2])
redis.call('PEXPIRE', KEYS[2], ARGV[3])
return first
`);

// KEYS: stream, counter. ARGV: first id to read, limit, maxAgeMs. Returns {lastSeq, firstSeq, entries}.
const READ = redisScript(`${LUA_PRELUDE}
trimByAge(KEYS[1], nowMs() - tonumber(ARGV[3]))
local last = tonumber(redis.call('GET', KEYS[2]) or '0')
local first = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', 1)[1]
local firstSeq = last + 1
if first then firstSeq = seqOf(first[1]) end
local entries = {}
if tonumber(ARGV[2]) > 0 then entries = redis.call('XRANGE', KEYS[1], ARGV[1], '+', 'COUNT', ARGV[2]) end
return {last, firstSeq, entries}
`);

type Entry = [id: string, fields: string[]];

function decode([id, fields]: Entry): SessionFrame {
  const at = fields.indexOf('f');
  const seq = Number(id.slice(0, id.indexOf('-')));
  return { ...(JSON.parse(fields[at + 1]!) as SessionFrameInput), seq } as SessionFrame;
}

function checkCount(name: string, value: number, min: number): number {
  if (!Number.isSafeInteger(value) || value < min) throw new RangeError(`${name} must be an integer >= ${min}, got ${value}`);
  return value;
}

/**
 * The session log on Redis Streams: one stream per session, capped by count (exact MAXLEN) and age
 * (trimmed on every append and read), `seq` assigned by a Lua script so it is contiguous across
 * every node. Keys expire after `maxAgeMs` without appends. The caller owns the connection.
 * @example const log = createRedisSessionLog(new Redis(url), { retention: { maxFrames: 5000 } });
 */
export function createRedisSessionLog(redis: RedisClient, options: RedisSessionLogOptions = {}): SessionLog {
  const retention = { ...DEFAULT_RETENTION, ...options.retention } satisfies LogRetention;
  const maxFrames = checkCount('retention.maxFrames', retention.maxFrames, 1);
  const maxAgeMs = checkCount('retention.maxAgeMs', Math.ceil(retention.maxAgeMs), 1);
  const seqTtlMs = Math.max(maxAgeMs, checkCount('seqTtlMs', options.seqTtlMs ?? 30 * 24 * 3600 * 1000, 1));
  const prefix = options.keyPrefix ?? DEFAULT_KEY_PREFIX;
  const keys = (sessionId: string) => [sessionKey(prefix, 'log', sessionId), sessionKey(prefix, 'seq', sessionId)];
  const checkSession = (sessionId: unknown): string => {
    if (typeof sessionId !== 'string' || sessionId === '') throw new TypeError('sessionId must be a non-empty string');
    return sessionId;
  };

  return {
    async append(input) {
      const { seq: _ignored, ...frame } = input as SessionFrameInput & { seq?: number };
      const json = JSON.stringify(frame);
      const seq = Number(await APPEND.run(redis, keys(checkSession(input.sessionId)), [json, maxFrames, maxAgeMs, seqTtlMs]));
      return { ...frame, seq } as SessionFrame;
    },
    publishes: options.publishes ?? false,
    async appendBatch(inputs, batchOptions = {}): Promise<AppendedFrame[]> {
      if (inputs.length === 0) return [];
      const sessionId = checkSession(inputs[0]!.sessionId);
      const frames = inputs.map((input) => {
        if (input.sessionId !== sessionId) throw new TypeError('appendBatch takes frames of one session');
        const { seq: _ignored, ...frame } = input as SessionFrameInput & { seq?: number };
        return frame;
      });
      const bodies = frames.map((f) => JSON.stringify(f));
      const channel = options.publishes ? (batchOptions.publish ?? '') : '';
      const first = Number(await APPEND_BATCH.run(redis, keys(sessionId), [maxFrames, maxAgeMs, seqTtlMs, channel, ...bodies]));
      return frames.map((f, i) => {
        const seq = first + i;
        // The same text a reader gets from JSON.stringify of the replayed frame: seq is the last key.
        return { frame: { ...f, seq } as SessionFrame, json: `${bodies[i]!.slice(0, -1)},"seq":${seq}}` };
      });
    },
    async readAfter(sessionId, after, limit = 10_000): Promise<ReadResult> {
      checkCount('after', after, 0);
      checkCount('limit', limit, 0);
      const [lastSeq, firstSeq, entries] = (await READ.run(redis, keys(checkSession(sessionId)), [
        `${after + 1}-0`,
        limit,
        maxAgeMs,
      ])) as [number, number, Entry[]];
      return { frames: entries.map(decode), gap: after + 1 < firstSeq && after < lastSeq, lastSeq };
    },
    async lastSeq(sessionId) {
      return Number((await redis.get(keys(checkSession(sessionId))[1]!)) ?? 0);
    },
    async delete(sessionId) {
      await redis.del(...keys(checkSession(sessionId)));
    },
    async close() {},
  };
}
