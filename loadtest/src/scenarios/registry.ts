/**
 * The scenarios the CLI knows, with their numeric options (name → help, default, minimum).
 */
import type { ScenarioResult } from '../support/report.js';
import { runChat } from './chat.js';
import type { ThinkDist } from './chat-users.js';
import type { CommonOptions } from './common.js';
import { runFanout } from './fanout.js';
import { runHttp } from './http.js';
import { runIdle } from './idle.js';
import { runReconnect } from './reconnect.js';
import { runSlowConsumer } from './slow-consumer.js';

/** A numeric option of a scenario. */
export interface OptionSpec {
  help: string;
  default: number;
  min?: number;
}

/** An option that takes one of a few words. */
export interface ChoiceSpec {
  help: string;
  default: string;
  choices: string[];
}

/** A scenario: its options and how to run it. */
export interface Scenario {
  options: Record<string, OptionSpec>;
  choices?: Record<string, ChoiceSpec>;
  run(common: CommonOptions, n: Record<string, number>, command: string, words: Record<string, string>): Promise<ScenarioResult>;
}

/** The chat scenario's options with the given defaults. */
function chatScenario(
  label: string,
  d: { users: number; duration: number; ramp: number; warmup: number; share429: number; think: number; addresses: number; procs: number },
): Scenario {
  return {
    options: {
      users: { help: 'virtual users', default: d.users, min: 1 },
      duration: { help: 'seconds of sending (measured window, after setup)', default: d.duration, min: 1 },
      ramp: { help: 'seconds over which users start', default: d.ramp },
      warmup: { help: 'seconds of sending before the measured window (reported apart)', default: d.warmup },
      ttft: { help: 'mock time to first token, ms', default: 300 },
      tps: { help: 'mock tokens per second', default: 50, min: 1 },
      tokens: { help: 'tokens per answer', default: 50, min: 1 },
      'share-429': { help: 'share of model requests answered 429', default: d.share429 },
      think: { help: 'mean think time between runs, seconds (0: back to back)', default: d.think },
      addresses: { help: 'source addresses 127.0.0.1..N for the sockets', default: d.addresses, min: 1 },
      accounts: { help: 'accounts shared round-robin by the users (0: one each)', default: 0 },
      'setup-concurrency': { help: 'concurrent user setups', default: 16, min: 1 },
      procs: { help: 'load-generator processes driving the users (1: this one)', default: d.procs, min: 1 },
    },
    choices: {
      'think-dist': { help: 'think-time distribution: exponential (mean --think) or uniform on [0, 2×think]', default: 'exponential', choices: ['exponential', 'uniform'] },
    },
    run: (c, n, command, w) =>
      runChat(
        {
          ...c,
          label,
          users: n.users!,
          duration: n.duration!,
          ramp: n.ramp,
          warmup: n.warmup,
          ttftMs: n.ttft!,
          tokensPerSecond: n.tps!,
          tokens: n.tokens!,
          share429: n['share-429']!,
          thinkS: n.think!,
          thinkDist: w['think-dist'] as ThinkDist,
          addresses: n.addresses!,
          accounts: n.accounts!,
          setupConcurrency: n['setup-concurrency']!,
          procs: n.procs!,
        },
        command,
      ),
  };
}

export const SCENARIOS: Record<'chat' | 'chat-stress' | 'idle' | 'fanout' | 'reconnect' | 'slow-consumer' | 'http', Scenario> = {
  chat: chatScenario('chat', { users: 20, duration: 20, ramp: 5, warmup: 0, share429: 0.05, think: 0, addresses: 8, procs: 1 }),
  /**
   * The seeds' stress test: 1,500 users, 50 tokens at 50 tok/s, mock TTFT 300 ms, no injected
   * 429s, 30 s of (exponential) think time between a user's runs; a 30 s warm-up under the same
   * load (reported apart) before the 90 s measured window.
   */
  'chat-stress': chatScenario('chat-stress', { users: 1500, duration: 90, ramp: 0, warmup: 30, share429: 0, think: 30, addresses: 16, procs: 2 }),
  idle: {
    options: {
      sockets: { help: 'sockets to hold', default: 10_000, min: 1 },
      hold: { help: 'seconds to hold them', default: 10 },
      'per-process': { help: 'sockets per client process', default: 15_000, min: 1 },
      addresses: { help: 'source addresses 127.0.0.1..N', default: 4, min: 1 },
    },
    run: (c, n, command) => runIdle({ ...c, sockets: n.sockets!, hold: n.hold!, perProcess: n['per-process']!, addresses: n.addresses! }, command),
  },
  fanout: {
    options: {
      subscribers: { help: 'subscribers on one session', default: 200, min: 1 },
      tokens: { help: 'tokens in the answer', default: 1000, min: 1 },
      tps: { help: 'mock tokens per second (0: unpaced)', default: 200 },
    },
    run: (c, n, command) => runFanout({ ...c, subscribers: n.subscribers!, tokens: n.tokens!, tokensPerSecond: n.tps! }, command),
  },
  reconnect: {
    options: {
      clients: { help: 'clients, one session each', default: 100, min: 1 },
      tokens: { help: 'tokens per answer at 50 tokens/s', default: 150, min: 1 },
      'drop-after': { help: 'ms after the sends to drop every socket', default: 1000 },
      timeout: { help: 'ms to wait for each run', default: 30_000, min: 1000 },
    },
    run: (c, n, command) => runReconnect({ ...c, clients: n.clients!, tokens: n.tokens!, dropAfterMs: n['drop-after']!, timeoutMs: n.timeout! }, command),
  },
  'slow-consumer': {
    options: {
      slow: { help: 'subscribers that stop reading', default: 20, min: 1 },
      healthy: { help: 'subscribers that keep reading', default: 5, min: 1 },
      tokens: { help: 'tokens in the unpaced answer', default: 30_000, min: 1 },
      'limit-kib': { help: "gateway MAX_BACKPRESSURE_BYTES in KiB", default: 256, min: 1 },
    },
    run: (c, n, command) => runSlowConsumer({ ...c, slow: n.slow!, healthy: n.healthy!, tokens: n.tokens!, limitKiB: n['limit-kib']! }, command),
  },
  http: {
    options: {
      duration: { help: 'seconds per route', default: 10, min: 1 },
      connections: { help: 'concurrent connections', default: 50, min: 1 },
    },
    run: (c, n, command) => runHttp({ ...c, duration: n.duration!, connections: n.connections! }, command),
  },
};

export type ScenarioName = keyof typeof SCENARIOS;
