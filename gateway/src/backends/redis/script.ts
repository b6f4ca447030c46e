import { createHash } from 'node:crypto';
import { Command, Redis } from 'ioredis';
import type { RedisClient } from './client.js';

/** A Lua script run by EVALSHA, loaded with EVAL when the server does not know it (yet or any more). */
export interface RedisScript {
  readonly sha: string;
  readonly lua: string;
  run(redis: RedisClient, keys: string[], args: Array<string | number>): Promise<unknown>;
}

/** Wraps a Lua script; the SHA is computed once, the server caches the body after the first EVAL. */
export function redisScript(lua: string): RedisScript {
  const sha = createHash('sha1').update(lua).digest('hex');
  return {
    sha,
    lua,
    async run(redis, keys, args) {
      try {
        return await redis.evalsha(sha, keys.length, ...keys, ...args);
      } catch (error) {
        if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
        return redis.eval(lua, keys.length, ...keys, ...args);
      }
    },
  };
}

/** Calls of one script on one connection, answered through a callback (no promise per call). */
export interface ScriptCalls {
  call(keys: string[], args: Array<string | number>, done: (error: Error | null, reply?: unknown) => void): void;
}

interface QueuedCall {
  keys: string[];
  args: Array<string | number>;
  done: (error: Error | null, reply?: unknown) => void;
}

/**
 * The calls of `script` made in one turn of the event loop (the tokens of every stream that
 * arrived together) go to the server in one write: a lone call as a plain EVALSHA, several with
 * the socket corked. A write costs the node more than building the call, and auto-pipelining
 * wraps even a lone call in a pipeline object of its own. Calls keep their order. A cluster client pipelines per slot itself: there every call is sent as it comes.
 */
export function batchedScript(redis: RedisClient, script: RedisScript): ScriptCalls {
  if (!(redis instanceof Redis)) {
    return {
      call(keys, args, done) {
        script.run(redis, keys, args).then(
          (reply) => done(null, reply),
          (error: Error) => done(error),
        );
      },
    };
  }
  const server = redis;
  let queue: QueuedCall[] = [];
  const retryNoScript = (c: QueuedCall, error: Error) => {
    if (!error.message.startsWith('NOSCRIPT')) return c.done(error);
    server.eval(script.lua, c.keys.length, ...c.keys, ...c.args).then(
      (reply) => c.done(null, reply),
      (e: Error) => c.done(e),
    );
  };
  const send = (c: QueuedCall) => {
    // Sent as it is: auto-pipelining would wrap a lone call in a pipeline of its own.
    const cmd = new Command('evalsha', [script.sha, c.keys.length, ...c.keys, ...c.args], { replyEncoding: 'utf8' });
    server.sendCommand(cmd);
    cmd.promise.then(
      (reply) => c.done(null, reply),
      (error: Error) => retryNoScript(c, error),
    );
  };
  const flush = () => {
    const calls = queue;
    queue = [];
    // Several calls: the socket is corked while they are sent, so they leave in one write.
    const stream = calls.length > 1 && server.status === 'ready' ? server.stream : undefined;
    stream?.cork();
    try {
      for (const c of calls) send(c);
    } finally {
      stream?.uncork();
    }
  };
  return {
    call(keys, args, done) {
      if (queue.push({ keys, args, done }) === 1) setImmediate(flush);
    },
  };
}

/** A key prefix for one gateway deployment. @default 'sb:' */
export const DEFAULT_KEY_PREFIX = 'sb:';

/** `<prefix><kind>:{<id>}` — the braces make every key of one session hash to one cluster slot. */
export function sessionKey(prefix: string, kind: string, sessionId: string): string {
  return `${prefix}${kind}:{${sessionId}}`;
}

/** Rejects a TTL Redis would refuse (PX wants a positive integer). */
export function checkTtl(ttlMs: number): number {
  if (!Number.isFinite(ttlMs) || ttlMs < 1) throw new RangeError(`ttlMs must be a positive number of milliseconds, got ${ttlMs}`);
  return Math.ceil(ttlMs);
}
