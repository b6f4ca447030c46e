/**
 * The scenarios the CLI knows, with their numeric options (name → help, default, minimum).
 */
import type { ScenarioResult } from '../support/report.js';
import { runChat } from './chat.js';
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

/** A scenario: its options and how to run it. */
export interface Scenario {
  options: Record<string, OptionSpec>;
  run(common: CommonOptions, n: Record<string, number>, command: string): Promise<ScenarioResult>;
}

export const SCENARIOS: Record<'chat' | 'idle' | 'fanout' | 'reconnect' | 'slow-consumer' | 'http', Scenario> = {
  chat: {
    options: {
      users: { help: 'virtual users', default: 20, min: 1 },
      duration: { help: 'seconds of sending', default: 20, min: 1 },
      ramp: { help: 'seconds over which users start', default: 5 },
      ttft: { help: 'mock time to first token, ms', default: 300 },
      tps: { help: 'mock tokens per second', default: 50, min: 1 },
      tokens: { help: 'tokens per answer', default: 50, min: 1 },
      'share-429': { help: 'share of model requests answered 429', default: 0.05 },
    },
    run: (c, n, command) =>
      runChat(
        { ...c, users: n.users!, duration: n.duration!, ramp: n.ramp, ttftMs: n.ttft!, tokensPerSecond: n.tps!, tokens: n.tokens!, share429: n['share-429']! },
        command,
      ),
  },
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
