import { randomBytes } from 'node:crypto';
import type { SessionFrame, SessionFrameInput } from '@switchboard/protocol';
import type { RedisClient } from './client.js';
import { DEFAULT_RETENTION, NEW_LOG_HOLD_MS, appendWithReservation, type AppendAttempt, type AppendGrant } from '../memory/session-log.js';
import { DEFAULT_KEY_PREFIX, batchedScript, redisScript, sessionKey } from './script.js';
import type { AppendBatchOptions, AppendedFrame, LogRetention, ReadResult, SeqReservations, SessionLog } from '../../ports.js';

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
  /** Durable `seq` reservations: a log Redis lost starts above them. Without, a lost log restarts at 1. */
  reservations?: SeqReservations;
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

// KEYS: stream, counter, meta, lock. ARGV: channel ('' for none), lease ('' for none), runId, the
// batch's head, then one frame JSON (without seq) per frame. The head is seven words, '-' for none:
// flags ('e' the batch holds the run's done, 'r' release the lock with it, 'p' refuse when the
// previous run has no done), batch id, the epoch the caller knows, a grant (epoch, floor and
// ceiling) and the call's id (the same on every try of one append). Retention and the seq TTL
// are constants of the script (one script per log options), so a call carries only what changes.
// A batch id the script has just written is answered from meta without writing again: the
// client resends a script whose reply a dropped connection lost (ioredis does), and the batch
// must not land twice.
// meta holds ep (epoch), r (highest seq reserved durably), w (lease of the last fenced write),
// e (the run whose done was written last), and while a new log waits for its floor i (until
// when) and iw (the call reserving it). Returns the first seq when the log is in the epoch
// the caller knows, else {first seq, epoch}; {-1} fenced, {-2} no epoch (the log is new or was
// lost: call again with a floor), {-3, need} ceiling reached, {-4, runId} the previous run is open,
// {-5} another call is reserving the floor of the new log (call again without one, a little later).
function appendScript(maxFrames: number, maxAgeMs: number, seqTtlMs: number) {
  return redisScript(`${LUA_PRELUDE}
local now = nowMs()
local n = #ARGV - 4
local lease, runId = ARGV[2], ARGV[3]
local flags, batch, known, gEp, gFloor, gCeil, who = string.match(ARGV[4], '^(%S+) (%S+) (%S+) (%S+) (%S+) (%S+) (%S+)$')
local ep = redis.call('HGET', KEYS[3], 'ep')
if not ep then
  if gFloor == '-' then
    -- one caller at a time reserves a floor for a new log (i: until when it may); the others wait
    -- for its epoch, so the later of two reservations cannot start the log above the earlier one
    if tonumber(redis.call('HGET', KEYS[3], 'i') or '0') > now and redis.call('HGET', KEYS[3], 'iw') ~= who then return {-5} end
    redis.call('HSET', KEYS[3], 'i', now + ${NEW_LOG_HOLD_MS}, 'iw', who)
    redis.call('PEXPIRE', KEYS[3], '${seqTtlMs}')
    return {-2}
  end
  redis.call('HDEL', KEYS[3], 'i', 'iw')
  ep = gEp
  local base = tonumber(gFloor)
  local c = tonumber(redis.call('GET', KEYS[2]) or '0')
  if c > base then base = c end
  local tail = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)[1]
  if tail and seqOf(tail[1]) > base then base = seqOf(tail[1]) end
  redis.call('SET', KEYS[2], base)
  redis.call('HSET', KEYS[3], 'ep', ep, 'r', gCeil)
elseif gCeil ~= '-' and tonumber(gCeil) > tonumber(redis.call('HGET', KEYS[3], 'r') or '0') then
  redis.call('HSET', KEYS[3], 'r', gCeil)
end
local function answer(first)
  if ep == known then return first end
  return {first, ep}
end
if batch ~= '-' and redis.call('HGET', KEYS[3], 'b') == batch then
  return answer(tonumber(redis.call('HGET', KEYS[3], 'bf')))
end
if lease ~= '' then
  if redis.call('HGET', KEYS[3], 'e') == runId then return {-1} end
  local holder = redis.call('GET', KEYS[4])
  if holder ~= lease then
    local w = redis.call('HGET', KEYS[3], 'w')
    if holder or (w and w ~= lease) then return {-1} end
  end
end
local c = tonumber(redis.call('GET', KEYS[2]) or '0')
local tail
if c == 0 or string.find(flags, 'p', 1, true) then tail = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)[1] end
-- the counter was lost while frames remain: continue after them, never reuse a seq
if c == 0 and tail then c = seqOf(tail[1]) end
if n > 0 and tail and seqOf(tail[1]) == c and string.find(flags, 'p', 1, true) then
  local fields, f = tail[2], nil
  for i = 1, #fields, 2 do if fields[i] == 'f' then f = fields[i + 1] end end
  local ok, last = pcall(cjson.decode, f or '')
  if ok and type(last) == 'table' and last.type ~= 'done' and last.runId ~= runId then return {-4, last.runId} end
end
local first = c + 1
if first + n - 1 > tonumber(redis.call('HGET', KEYS[3], 'r') or '0') then return {-3, first + n - 1} end
redis.call('SET', KEYS[2], first + n - 1)
if batch ~= '-' then redis.call('HSET', KEYS[3], 'b', batch, 'bf', first) end
if lease ~= '' then
  redis.call('HSET', KEYS[3], 'w', lease)
  if string.find(flags, 'e', 1, true) then
    redis.call('HSET', KEYS[3], 'e', runId)
    if string.find(flags, 'r', 1, true) and redis.call('GET', KEYS[4]) == lease then redis.call('DEL', KEYS[4]) end
  end
end
local t = string.format('%d', now)
for i = 1, n do
  local seq = first + i - 1
  local f = ARGV[4 + i]
  local id = string.format('%d', seq)
  redis.call('XADD', KEYS[1], 'MAXLEN', '${maxFrames}', id .. '-0', 'f', f, 't', t)
  if ARGV[1] ~= '' then redis.call('PUBLISH', ARGV[1], id .. ' ' .. ep .. ' ' .. string.sub(f, 1, -2) .. ',"seq":' .. id .. '}') end
end
trimByAge(KEYS[1], now - ${maxAgeMs})
redis.call('PEXPIRE', KEYS[1], '${maxAgeMs}')
redis.call('PEXPIRE', KEYS[2], '${seqTtlMs}')
redis.call('PEXPIRE', KEYS[3], '${seqTtlMs}')
return answer(first)
`);
}

// KEYS: stream, counter, meta. ARGV: first id to read, limit, maxAgeMs. Returns {lastSeq, firstSeq, entries, epoch}.
const READ = redisScript(`${LUA_PRELUDE}
trimByAge(KEYS[1], nowMs() - tonumber(ARGV[3]))
local last = tonumber(redis.call('GET', KEYS[2]) or '0')
local first = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', 1)[1]
local firstSeq = last + 1
if first then firstSeq = seqOf(first[1]) end
local entries = {}
if tonumber(ARGV[2]) > 0 then entries = redis.call('XRANGE', KEYS[1], ARGV[1], '+', 'COUNT', ARGV[2]) end
return {last, firstSeq, entries, redis.call('HGET', KEYS[3], 'ep') or ''}
`);

type Entry = [id: string, fields: string[]];

/** Sessions whose keys and epoch a log keeps at hand (the most recent ones). */
const KNOWN_SESSIONS = 10_000;

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
  const keys = (sessionId: string) => [sessionKey(prefix, 'log', sessionId), sessionKey(prefix, 'seq', sessionId), sessionKey(prefix, 'meta', sessionId)];
  // Batch ids only have to differ from the previous batch of the same session: one random prefix
  // per log and a counter, not a random draw (a getrandom call) on every batch of tokens.
  const batchPrefix = randomBytes(9).toString('base64url');
  let batches = 0;
  const checkSession = (sessionId: unknown): string => {
    if (typeof sessionId !== 'string' || sessionId === '') throw new TypeError('sessionId must be a non-empty string');
    return sessionId;
  };
  const publishes = options.publishes ?? false;

  const appendCalls = batchedScript(redis, appendScript(maxFrames, maxAgeMs, seqTtlMs));

  // Per session: its four script keys, built once, and the epoch its last append answered, sent
  // along so the script answers a bare integer while the epoch stays (most recent sessions only).
  const known = new Map<string, { keys: string[]; epoch: string }>();
  const sessionOf = (sessionId: string) => {
    let s = known.get(sessionId);
    if (s) return s;
    if (known.size >= KNOWN_SESSIONS) known.delete(known.keys().next().value!);
    s = { keys: [...keys(sessionId), sessionKey(prefix, 'lock', sessionId)], epoch: '' };
    known.set(sessionId, s);
    return s;
  };

  /** The script's answer as an attempt of {@link appendWithReservation}; `epoch`: the one the call said it knew. */
  const outcome = (reply: unknown, epoch: string): AppendAttempt<{ first: number; epoch: string }> => {
    if (typeof reply === 'number') return { ok: { first: reply, epoch } };
    const r = reply as [number, string | number | undefined];
    const code = Number(r[0]);
    if (code === -1) return { fenced: true };
    if (code === -2) return { needFloor: true };
    if (code === -3) return { needCeiling: Number(r[1]) };
    if (code === -4) return { previousOpen: String(r[1]) };
    if (code === -5) return { busy: true };
    return { ok: { first: code, epoch: String(r[1]) } };
  };

  /**
   * One script call; no frames only makes sure the log exists. The common case (the log exists,
   * the lease holds, `seq`s are reserved) costs one promise; any other answer goes on through
   * {@link appendWithReservation}, starting from that answer.
   */
  function write<T>(
    sessionId: string,
    inputs: SessionFrameInput[],
    publish: string,
    o: AppendBatchOptions,
    into: (frames: AppendedFrame[], epoch: string) => T,
  ): Promise<T> {
    const runId = inputs[0]?.runId ?? '';
    const frames: SessionFrameInput[] = [];
    const args: string[] = [publish, o.lease ?? '', runId, ''];
    let ends = false;
    for (const input of inputs) {
      if (input.sessionId !== sessionId) throw new TypeError('appendBatch takes frames of one session');
      let frame = input;
      if ('seq' in input) {
        const { seq: _ignored, ...rest } = input as SessionFrameInput & { seq?: number };
        frame = rest as SessionFrameInput;
      }
      if (frame.type === 'done' && frame.runId === runId) ends = true;
      frames.push(frame);
      args.push(JSON.stringify(frame));
    }
    let flags = ends ? (o.releaseOnEnd ? 'er' : 'e') : '';
    if (o.ifPreviousEnded) flags += 'p';
    const session = sessionOf(sessionId);
    const callId = `${batchPrefix}.${(batches += 1).toString(36)}`;
    const batchId = inputs.length > 0 ? callId : '-';
    const call = (grant: AppendGrant, done: (error: Error | null, reply?: unknown) => void) => {
      const epoch = session.epoch;
      const g = grant.epoch !== undefined || grant.ceiling !== undefined ? `${grant.epoch ?? '-'} ${grant.floor ?? '-'} ${grant.ceiling ?? '-'}` : '- - -';
      args[3] = `${flags || '-'} ${batchId} ${epoch || '-'} ${g} ${callId}`;
      appendCalls.call(session.keys, args, (error, reply) => {
        if (error) return done(error);
        const answer = outcome(reply, epoch);
        if ('ok' in answer) session.epoch = answer.ok.epoch;
        done(null, answer);
      });
    };
    const result = ({ first, epoch }: { first: number; epoch: string }): T => {
      const written: AppendedFrame[] = [];
      for (let i = 0; i < frames.length; i++) {
        const seq = first + i;
        // The same text a reader gets from JSON.stringify of the replayed frame: seq is the last key.
        written.push({ frame: { ...frames[i]!, seq } as SessionFrame, json: `${args[4 + i]!.slice(0, -1)},"seq":${seq}}`, epoch });
      }
      return into(written, epoch);
    };
    return new Promise<T>((resolve, reject) => {
      call({}, (error, reply) => {
        if (error) return reject(error);
        const answer = reply as AppendAttempt<{ first: number; epoch: string }>;
        if ('ok' in answer) return resolve(result(answer.ok));
        let pending: typeof answer | undefined = answer;
        appendWithReservation<{ first: number; epoch: string }>(sessionId, runId, options.reservations, (grant) => {
          if (pending) {
            const a = pending;
            pending = undefined;
            return Promise.resolve(a);
          }
          return new Promise((res, rej) => call(grant, (e, r) => (e ? rej(e) : res(r as AppendAttempt<{ first: number; epoch: string }>))));
        }).then((ok) => resolve(result(ok)), reject);
      });
    });
  }

  function appendBatch(inputs: SessionFrameInput[], publish: string, o: AppendBatchOptions): Promise<AppendedFrame[]> {
    if (inputs.length === 0) return Promise.resolve([]);
    try {
      return write(checkSession(inputs[0]!.sessionId), inputs, publish, o, (frames) => frames);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  return {
    async append(input, appendOptions = {}) {
      return (await appendBatch([input], '', appendOptions))[0]!.frame;
    },
    publishes,
    // The lock is a key of the session's slot, beside its log: released in the append's script.
    releasesLease: true,
    appendBatch(inputs, batchOptions = {}): Promise<AppendedFrame[]> {
      return appendBatch(inputs, publishes ? (batchOptions.publish ?? '') : '', batchOptions);
    },
    async open(sessionId) {
      return write(checkSession(sessionId), [], '', {}, (_frames, epoch) => epoch);
    },
    async readAfter(sessionId, after, limit = 10_000): Promise<ReadResult> {
      checkCount('after', after, 0);
      checkCount('limit', limit, 0);
      const [lastSeq, firstSeq, entries, epoch] = (await READ.run(redis, keys(checkSession(sessionId)), [
        `${after + 1}-0`,
        limit,
        maxAgeMs,
      ])) as [number, number, Entry[], string];
      return { frames: entries.map(decode), gap: after + 1 < firstSeq && after < lastSeq, lastSeq, epoch };
    },
    async lastSeq(sessionId) {
      return Number((await redis.get(keys(checkSession(sessionId))[1]!)) ?? 0);
    },
    async delete(sessionId) {
      known.delete(sessionId);
      await redis.del(...keys(checkSession(sessionId)));
    },
    async close() {},
  };
}
