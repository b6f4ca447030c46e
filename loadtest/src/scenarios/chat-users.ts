/**
 * The chat scenario's virtual users, in whichever process drives them (the CLI's own, or a
 * `chat-worker.ts` child when the load is split): setup (account, session, socket), then runs
 * with optional think time, timing every token frame.
 */
import WebSocket from 'ws';
import { SwitchboardClient, type WebSocketConstructor } from '@switchboard/protocol';
import { createLatencyRecorder, type LatencyRecorder } from '../stats/histogram.js';
import { gatewayApi, HttpCallError, LOAD_PASSWORD, loadUserEmail } from '../support/http-api.js';
import { pool, sleep } from './common.js';

export type ThinkDist = 'exponential' | 'uniform';

/** One think time in ms: exponential with the given mean, or uniform on [0, 2·mean]. */
export function thinkMs(meanS: number, dist: ThinkDist, random: () => number = Math.random): number {
  if (meanS <= 0) return 0;
  const u = random();
  return Math.max(0, dist === 'uniform' ? 2 * meanS * 1000 * u : -meanS * 1000 * Math.log(1 - u));
}

/** A `ws` WebSocket bound to one local source address, shaped for the protocol client. */
function boundWebSocket(localAddress: string): WebSocketConstructor {
  return class extends WebSocket {
    constructor(url: string, protocols?: string | string[]) {
      super(url, protocols, { localAddress, perMessageDeflate: false });
    }
  } as unknown as WebSocketConstructor;
}

/** Which users a driver owns and how they behave. */
export interface UsersJob {
  url: string;
  wsUrl: string;
  /** Global index of this driver's first user, and how many it drives. */
  first: number;
  count: number;
  /** All users across drivers (spreads the ramp). */
  totalUsers: number;
  /** Accounts shared round-robin by all users. */
  accounts: number;
  addresses: number;
  setupConcurrency: number;
  thinkS: number;
  thinkDist: ThinkDist;
  rampMs: number;
  /**
   * Runs sent in the first `warmupMs` of sending are the warm-up: timed apart (the gateway's JIT is
   * still compiling the chat path) and left out of the measured counts and latencies. @default 0
   */
  warmupMs?: number;
  /** The mock's scripted TTFT (subtracted for the gateway-added figure). */
  ttftMs: number;
}

/** Running counts of a driver. */
export interface UsersCounts {
  ready: number;
  setupFailed: number;
  activeUsers: number;
  started: number;
  succeeded: number;
  frames: number;
  tokens: number;
  errors: Record<string, number>;
  /** Runs sent during the warm-up (not in `started` / `succeeded`), and how many of them ended `stop`. */
  warmStarted: number;
  warmSucceeded: number;
}

/** Fresh counts of a driver. */
export function emptyCounts(): UsersCounts {
  return { ready: 0, setupFailed: 0, activeUsers: 0, started: 0, succeeded: 0, frames: 0, tokens: 0, errors: {}, warmStarted: 0, warmSucceeded: 0 };
}

const PROMPTS = ['tell me about sockets', 'how do streams work here', 'say something about gateways', 'describe the weather of ports'];

/** The latency recorders a driver keeps (merged across processes by name). */
export const RECORDER_NAMES = ['ttft', 'addedTtft', 'gap', 'runTime', 'warmAddedTtft', 'warmGap'] as const;
export type RecorderName = (typeof RECORDER_NAMES)[number];

/** Drives one slice of the users. */
export class UsersDriver {
  readonly ttft = createLatencyRecorder();
  readonly addedTtft = createLatencyRecorder();
  readonly gap = createLatencyRecorder();
  readonly runTime = createLatencyRecorder();
  /** The warm-up's runs, timed apart. */
  readonly warmAddedTtft = createLatencyRecorder();
  readonly warmGap = createLatencyRecorder();
  readonly counts: UsersCounts = emptyCounts();
  private users: Array<{ i: number; client: SwitchboardClient; sessionId: string } | null> = [];

  constructor(private readonly job: UsersJob) {}

  private countError(code: string): void {
    this.counts.errors[code] = (this.counts.errors[code] ?? 0) + 1;
  }

  /** Accounts (register, or log in when another driver registered it first), sessions, sockets. */
  async setup(): Promise<void> {
    const j = this.job;
    const api = gatewayApi(j.url);
    const sockets = Array.from({ length: j.addresses }, (_, a) => boundWebSocket(`127.0.0.${a + 1}`));
    const tokens = new Map<number, Promise<string>>();
    const account = (k: number): Promise<string> => {
      let t = tokens.get(k);
      if (!t) {
        const email = loadUserEmail('chat', k);
        t = api.register(email, LOAD_PASSWORD).then(
          (r) => r.accessToken,
          async (e) => {
            if (e instanceof HttpCallError && e.status === 409) return (await api.login(email, LOAD_PASSWORD)).accessToken;
            throw e;
          },
        );
        tokens.set(k, t);
      }
      return t;
    };
    this.users = await pool(j.count, j.setupConcurrency, async (n) => {
      const i = j.first + n;
      try {
        const accessToken = await account(i % j.accounts);
        const { id: sessionId } = await api.createSession(accessToken, `load ${i}`);
        const client = new SwitchboardClient({ url: j.wsUrl, token: accessToken, clientName: 'loadtest-chat', WebSocket: sockets[i % j.addresses] });
        await client.connect();
        this.counts.ready++;
        return { i, client, sessionId };
      } catch (e) {
        this.counts.setupFailed++;
        this.countError(`setup:${e instanceof HttpCallError ? `http:${e.code}` : ((e as { code?: string }).code ?? (e as Error).message.slice(0, 40))}`);
        return null;
      }
    });
  }

  /** Runs every ready user until `durationMs` from now (runs in flight then finish). */
  async run(durationMs: number): Promise<void> {
    const j = this.job;
    const startAt = performance.now();
    const endAt = startAt + durationMs;
    const measureFrom = startAt + (j.warmupMs ?? 0);
    const sleepUnlessPastEnd = async (ms: number) => {
      if (ms <= 0) return true;
      if (performance.now() + ms >= endAt) return false;
      await sleep(ms);
      return true;
    };
    const c = this.counts;
    const user = async (u: { i: number; client: SwitchboardClient; sessionId: string }) => {
      const { i, client, sessionId } = u;
      // Spread over the ramp, then (with think time) a first think, so sends arrive as from users
      // already mid-conversation rather than all at once.
      if (!(await sleepUnlessPastEnd((j.rampMs * i) / Math.max(1, j.totalUsers) + thinkMs(j.thinkS, j.thinkDist)))) return;
      c.activeUsers++;
      try {
        let turn = 0;
        while (performance.now() < endAt) {
          const sentAt = performance.now();
          const warm = sentAt < measureFrom;
          const addedTtft = warm ? this.warmAddedTtft : this.addedTtft;
          const gap = warm ? this.warmGap : this.gap;
          let firstAt = 0, lastAt = 0;
          if (warm) c.warmStarted++;
          else c.started++;
          const run = client.send({ sessionId, text: `${PROMPTS[(i + turn++) % PROMPTS.length]} (user ${i})` });
          const off = client.onFrame((f) => {
            if (!('sessionId' in f) || f.sessionId !== sessionId || !('seq' in f)) return;
            if (!warm) c.frames++;
            if (f.type !== 'token') return;
            const now = performance.now();
            if (!warm) c.tokens++;
            if (!firstAt) {
              firstAt = now;
              if (!warm) this.ttft.record(now - sentAt);
              addedTtft.record(Math.max(0.001, now - sentAt - j.ttftMs));
            } else gap.record(now - lastAt);
            lastAt = now;
          });
          try {
            const done = await run.done;
            if (!warm) this.runTime.record(performance.now() - sentAt);
            if (done.reason === 'stop') {
              if (warm) c.warmSucceeded++;
              else c.succeeded++;
            }
            else this.countError(`done:${done.reason}${done.error ? `:${typeof done.error === 'string' ? done.error : JSON.stringify(done.error).slice(0, 40)}` : ''}`);
          } catch (e) {
            this.countError((e as { code?: string }).code ?? 'exception');
          } finally {
            off();
          }
          if (!(await sleepUnlessPastEnd(thinkMs(j.thinkS, j.thinkDist)))) break;
        }
      } finally {
        c.activeUsers--;
      }
    };
    await Promise.all(this.users.map((u) => (u ? user(u) : Promise.resolve())));
  }

  close(): void {
    for (const u of this.users) u?.client.close();
  }

  /** Recorders by name (for merging across processes). */
  recorders(): Record<RecorderName, LatencyRecorder> {
    return { ttft: this.ttft, addedTtft: this.addedTtft, gap: this.gap, runTime: this.runTime, warmAddedTtft: this.warmAddedTtft, warmGap: this.warmGap };
  }
}
