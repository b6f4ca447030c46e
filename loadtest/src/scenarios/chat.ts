/**
 * `chat`: virtual users do the whole flow — register → session → socket → send → read to `done`
 * — against the mock LLM at a realistic pace, for a duration, optionally thinking between runs.
 * Setup (accounts, sessions, sockets) comes first and is reported apart; the measured window
 * (latency, CPU) is the sending only.
 */
import WebSocket from 'ws';
import { SwitchboardClient, type WebSocketConstructor } from '@switchboard/protocol';
import { createLatencyRecorder, formatSummary } from '../stats/histogram.js';
import { counterDelta, describeCounters, readGatewayCounters } from '../support/metrics.js';
import { CpuMeter } from '../support/proc.js';
import { fmtNum, Progress, type Row, type ScenarioResult } from '../support/report.js';
import { gatewayApi, HttpCallError, LOAD_PASSWORD, loadUserEmail } from '../support/http-api.js';
import { cpuLine, cpuRows, MOCK_MODEL, openTarget, pool, sleep, startMock, type CommonOptions, reportHead } from './common.js';

/** Options of the chat scenario. */
export interface ChatOptions extends CommonOptions {
  /** Virtual users. @default 20 */
  users: number;
  /** Seconds of sending (runs in flight then finish). @default 20 */
  duration: number;
  /** Seconds over which users start. @default min(5, duration / 4) */
  ramp?: number;
  /** Mock time to first token, ms. @default 300 */
  ttftMs: number;
  /** Mock pace, tokens per second. @default 50 */
  tokensPerSecond: number;
  /** Tokens per answer. @default 50 */
  tokens: number;
  /** Share of model requests answered 429 (with Retry-After 1 s). @default 0.05 */
  share429: number;
  /** Mean think time between a user's `done` and next send, seconds (0: back to back). @default 0 */
  thinkS?: number;
  /** Think-time distribution: `exponential` (default; memoryless, Poisson-like sends) or `uniform` on [0, 2·mean]. */
  thinkDist?: ThinkDist;
  /** Users' sockets spread round-robin over 127.0.0.1 … 127.0.0.N. @default 8 */
  addresses?: number;
  /** Accounts the users share round-robin (0: one account per user). @default 0 */
  accounts?: number;
  /** Concurrent account/session/socket setups. @default 16 */
  setupConcurrency?: number;
  /** Scenario name in the report. @default 'chat' */
  label?: string;
}

export type ThinkDist = 'exponential' | 'uniform';

/** One think time in ms: exponential with the given mean, or uniform on [0, 2·mean]. */
export function thinkMs(meanS: number, dist: ThinkDist, random: () => number = Math.random): number {
  if (meanS <= 0) return 0;
  const u = random();
  return dist === 'uniform' ? 2 * meanS * 1000 * u : -meanS * 1000 * Math.log(1 - u);
}

/** A `ws` WebSocket bound to one local source address, shaped for the protocol client. */
function boundWebSocket(localAddress: string): WebSocketConstructor {
  return class extends WebSocket {
    constructor(url: string, protocols?: string | string[]) {
      super(url, protocols, { localAddress, perMessageDeflate: false });
    }
  } as unknown as WebSocketConstructor;
}

const PROMPTS = ['tell me about sockets', 'how do streams work here', 'say something about gateways', 'describe the weather of ports'];

/** Runs the scenario. */
export async function runChat(o: ChatOptions, command: string): Promise<ScenarioResult> {
  const startedAt = new Date().toISOString();
  const pace = { ttftMs: o.ttftMs, tokensPerSecond: o.tokensPerSecond, responseTokens: o.tokens };
  const { mock, env } = await startMock(pace);
  const target = await openTarget(o, env);
  const api = gatewayApi(target.url);
  const think = o.thinkS ?? 0;
  const dist = o.thinkDist ?? 'exponential';
  const nAddresses = Math.max(1, Math.min(254, o.addresses ?? 8));
  const sockets = Array.from({ length: nAddresses }, (_, a) => boundWebSocket(`127.0.0.${a + 1}`));

  const ttft = createLatencyRecorder();
  const addedTtft = createLatencyRecorder();
  const gap = createLatencyRecorder();
  const runTime = createLatencyRecorder();
  const errors: Record<string, number> = {};
  const countError = (code: string) => (errors[code] = (errors[code] ?? 0) + 1);
  let started = 0, succeeded = 0, frames = 0, tokens = 0, activeUsers = 0, ready = 0, setupFailed = 0;

  // Setup: accounts (register returns tokens), one session and one socket per user.
  const setupT0 = performance.now();
  const setupMeter = new CpuMeter();
  const setupProgress = new Progress(() => `setup: ${ready}/${o.users} users ready, ${setupFailed} failed | ${cpuLine(setupMeter, target)}`, o.quiet).start();
  const nAccounts = o.accounts && o.accounts > 0 ? Math.min(o.accounts, o.users) : o.users;
  const accounts: Array<Promise<string>> = [];
  const account = (k: number) =>
    (accounts[k] ??= (async () => (await api.register(loadUserEmail('chat', k), LOAD_PASSWORD)).accessToken)());
  interface VirtualUser {
    client: SwitchboardClient;
    sessionId: string;
  }
  const users = await pool(o.users, o.setupConcurrency ?? 16, async (i): Promise<VirtualUser | null> => {
    try {
      const accessToken = await account(i % nAccounts);
      const { id: sessionId } = await api.createSession(accessToken, `load ${i}`);
      const client = new SwitchboardClient({ url: target.wsUrl, token: accessToken, clientName: 'loadtest-chat', WebSocket: sockets[i % nAddresses] });
      await client.connect();
      ready++;
      return { client, sessionId };
    } catch (e) {
      setupFailed++;
      countError(`setup:${e instanceof HttpCallError ? `http:${e.code}` : ((e as { code?: string }).code ?? (e as Error).message.slice(0, 40))}`);
      return null;
    }
  });
  setupProgress.stop();
  const setupS = (performance.now() - setupT0) / 1000;

  // The measured window.
  const loadgen = new CpuMeter();
  target.cpu?.start();
  const before = await readGatewayCounters(target.url);
  const t0 = performance.now();
  const endAt = t0 + o.duration * 1000;

  // A share of 429s, spread out: every 100 ms the next model request may get one 429 (mock
  // `failFirst: 1`), so that 429s rarely come back to back (five in a row open the breaker).
  const expectedRunS = o.ttftMs / 1000 + o.tokens / Math.max(1, o.tokensPerSecond);
  let carry = 0;
  let injected = 0;
  const faultTimer = setInterval(() => {
    if (o.share429 <= 0) return;
    carry += (o.share429 * activeUsers * 0.1) / Math.max(0.2, expectedRunS + think);
    if (carry < 1) return;
    carry -= 1;
    injected++;
    mock.setScenario(MOCK_MODEL, { ...pace, fault: '429', failFirst: 1, retryAfterSec: 1 });
  }, 100);

  const progress = new Progress(() => {
    const el = (performance.now() - t0) / 1000;
    return `users ${activeUsers}/${o.users} | runs ${succeeded}/${started} ok | ${fmtNum(frames / el)} frames/s | added ttft p99 ${addedTtft.summary().p99.toFixed(0)} ms | gap p99 ${gap.summary().p99.toFixed(0)} ms | errors ${Object.values(errors).reduce((a, b) => a + b, 0)} | ${cpuLine(loadgen, target)}`;
  }, o.quiet).start();

  const ramp = (o.ramp ?? Math.min(5, o.duration / 4)) * 1000;
  const sleepUntilBefore = async (ms: number) => {
    if (ms <= 0) return true;
    if (performance.now() + ms >= endAt) return false;
    await sleep(ms);
    return true;
  };
  async function user(i: number, u: VirtualUser): Promise<void> {
    const { client, sessionId } = u;
    // Users start spread over the ramp, then (with think time) after a first think, so sends
    // arrive as from users already mid-conversation rather than all at once.
    if (!(await sleepUntilBefore((ramp * i) / Math.max(1, o.users) + thinkMs(think, dist)))) return;
    activeUsers++;
    try {
      let turn = 0;
      while (performance.now() < endAt) {
        const sentAt = performance.now();
        let firstAt = 0, lastAt = 0;
        started++;
        const run = client.send({ sessionId, text: `${PROMPTS[(i + turn++) % PROMPTS.length]} (user ${i})` });
        const off = client.onFrame((f) => {
          if (!('sessionId' in f) || f.sessionId !== sessionId || !('seq' in f)) return;
          frames++;
          if (f.type !== 'token') return;
          const now = performance.now();
          tokens++;
          if (!firstAt) {
            firstAt = now;
            ttft.record(now - sentAt);
            addedTtft.record(Math.max(0.001, now - sentAt - o.ttftMs));
          } else gap.record(now - lastAt);
          lastAt = now;
        });
        try {
          const done = await run.done;
          runTime.record(performance.now() - sentAt);
          if (done.reason === 'stop') succeeded++;
          else countError(`done:${done.reason}${done.error ? `:${typeof done.error === 'string' ? done.error : JSON.stringify(done.error).slice(0, 40)}` : ''}`);
        } catch (e) {
          countError((e as { code?: string }).code ?? 'exception');
        } finally {
          off();
        }
        if (!(await sleepUntilBefore(thinkMs(think, dist)))) break;
      }
    } finally {
      activeUsers--;
    }
  }
  await Promise.all(users.map((u, i) => (u ? user(i, u) : Promise.resolve())));
  for (const u of users) u?.client.close();
  clearInterval(faultTimer);
  progress.stop();
  const wallS = (performance.now() - t0) / 1000;
  const loadCpu = loadgen.read();
  const gwCpu = target.cpu?.read() ?? null;
  const rss = target.rssKiB();
  const after = await readGatewayCounters(target.url);
  const counters = counterDelta(before, after);
  const mockStats = mock.stats;
  await target.stop();
  await mock.close();

  const gapS = gap.summary();
  const addedS = addedTtft.summary();
  const thinkNote = think > 0 ? `${think} s mean, ${dist}${dist === 'uniform' ? ` on [0, ${2 * think}] s` : ''}` : 'none (back to back)';
  const rows: Row[] = [
    ['virtual users', `${o.users} (${ready} ready, ${setupFailed} failed setup)`, `${nAccounts} accounts, sockets over ${nAddresses} source addresses 127.0.0.1–${nAddresses}`],
    ['setup (accounts, sessions, sockets)', `${setupS.toFixed(1)} s`, 'not in the measured window'],
    ['think time', thinkNote],
    ['runs (ok / started)', `${succeeded} / ${started}`, `${(started / wallS).toFixed(1)} runs/s`],
    ['success', `${started ? ((100 * succeeded) / started).toFixed(2) : '0'} %`],
    ['gateway-added TTFT p50/p90/p99/p99.9/max', formatSummary(addedS), `TTFT − mock TTFT ${o.ttftMs} ms`],
    ['time to first token p50/p90/p99/p99.9/max', formatSummary(ttft.summary()), `mock TTFT ${o.ttftMs} ms`],
    ['inter-token gap p50/p90/p99/p99.9/max', formatSummary(gapS, 2), `mock pace ${(1000 / o.tokensPerSecond).toFixed(1)} ms`],
    ['gap above the mock pace (p99)', `${Math.max(0, gapS.p99 - 1000 / o.tokensPerSecond).toFixed(2)} ms`, 'gateway + client + mock jitter'],
    ['run duration p50/p90/p99/p99.9/max', formatSummary(runTime.summary(), 0)],
    ['session frames received', `${fmtNum(frames)} (${fmtNum(frames / wallS)} /s)`],
    ['token frames received', `${fmtNum(tokens)} (${fmtNum(tokens / wallS)} /s)`],
    ['errors by code', Object.keys(errors).length ? Object.entries(errors).map(([k, v]) => `${k}=${v}`).join(', ') : 'none'],
    ['mock LLM outcomes', Object.entries(mockStats.outcomes).map(([k, v]) => `${k}=${v}`).join(', ') || 'none'],
    ['gateway counters', describeCounters(counters)],
    ...cpuRows(loadCpu, gwCpu, rss),
  ];
  return {
    ...reportHead(o.label ?? 'chat', { command, startedAt, durationS: wallS, options: o, target }),
    rows,
    data: {
      users: o.users,
      usersReady: ready,
      setupFailed,
      setupS,
      accounts: nAccounts,
      sourceAddresses: nAddresses,
      think: { meanS: think, distribution: dist },
      runsPerSecond: started / wallS,
      gatewayAddedTtftMs: addedS,
      started,
      succeeded,
      successPct: started ? (100 * succeeded) / started : 0,
      ttftMs: ttft.summary(),
      interTokenGapMs: gapS,
      runDurationMs: runTime.summary(),
      frames,
      framesPerSecond: frames / wallS,
      tokens,
      tokensPerSecond: tokens / wallS,
      errors,
      mockOutcomes: mockStats.outcomes,
      gatewayCounters: counters,
      gatewayRssKiB: rss,
    },
    loadgenCpu: loadCpu,
    gatewayCpu: gwCpu,
    notes: [
      'The load generator\'s CPU includes the mock LLM (same process). Figures cover the measured window only (after setup).',
      `${injected} 429s armed. Mock LLM in the load-generator process: TTFT ${o.ttftMs} ms, ${o.tokensPerSecond} tokens/s, ${o.tokens} tokens per answer, ${(o.share429 * 100).toFixed(0)} % of model requests answered 429 (Retry-After 1 s; the gateway's model chain retries).`,
    ],
  };
}
