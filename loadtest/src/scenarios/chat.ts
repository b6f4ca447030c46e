/**
 * `chat`: virtual users do the whole flow — register → session → socket → send → read to `done`
 * — against the mock LLM at a realistic pace, for a duration, optionally thinking between runs.
 * Setup (accounts, sessions, sockets) comes first and is reported apart; the measured window
 * (latency, CPU) is the sending only.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { addEncoded, createLatencyRecorder, formatSummary } from '../stats/histogram.js';
import { counterDelta, describeCounters, describeRuntime, formatLoopDelay, loopLateness, readGatewayCounters } from '../support/metrics.js';
import { CpuMeter, type CpuWindow } from '../support/proc.js';
import { fmtNum, Progress, type Row, type ScenarioResult } from '../support/report.js';
import { emptyCounts, RECORDER_NAMES, UsersDriver, type RecorderName, type ThinkDist, type UsersCounts, type UsersJob } from './chat-users.js';
import type { ChatWorkerCommand, ChatWorkerReport } from './chat-worker.js';
import { cpuLine, cpuRows, MOCK_MODEL, openTarget, startMock, type CommonOptions, reportHead } from './common.js';

export { thinkMs, type ThinkDist } from './chat-users.js';

/** Options of the chat scenario. */
export interface ChatOptions extends CommonOptions {
  /** Virtual users. @default 20 */
  users: number;
  /** Seconds of sending (runs in flight then finish). @default 20 */
  duration: number;
  /** Seconds over which users start. @default min(5, duration / 4) */
  ramp?: number;
  /**
   * Seconds of sending before the measured window: the gateway's JIT settles under the load
   * first. Those runs are reported apart (their added TTFT and gap), not in the figures. @default 0
   */
  warmup?: number;
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
  /** Load-generator processes driving the users (1: this process). @default 1 */
  procs?: number;
}

const workerPath = fileURLToPath(new URL('./chat-worker.ts', import.meta.url));
/** The timer the mock process's event loop delay is sampled with. */
const MOCK_LOOP_RESOLUTION_MS = 20;

/** Sums driver counts. */
function sumCounts(list: UsersCounts[]): UsersCounts {
  const out = emptyCounts();
  for (const c of list) {
    for (const k of ['ready', 'setupFailed', 'activeUsers', 'started', 'succeeded', 'frames', 'tokens', 'warmStarted', 'warmSucceeded'] as const) out[k] += c[k];
    for (const [k, v] of Object.entries(c.errors)) out.errors[k] = (out.errors[k] ?? 0) + v;
  }
  return out;
}

/** The users, driven here or split over worker processes; same interface either way. */
interface Drivers {
  counts(): UsersCounts;
  setup(): Promise<void>;
  run(durationMs: number): Promise<void>;
  /** CPU of the worker processes since `startCpu()` (null when driven in this process). */
  startCpu(): void;
  workerCpu(): CpuWindow | null;
  recorders: ReturnType<UsersDriver['recorders']>;
  close(): Promise<void>;
}

function localDrivers(job: UsersJob): Drivers {
  const d = new UsersDriver(job);
  return {
    counts: () => d.counts,
    setup: () => d.setup(),
    run: (ms) => d.run(ms),
    startCpu: () => {},
    workerCpu: () => null,
    recorders: d.recorders(),
    close: async () => d.close(),
  };
}

function workerDrivers(job: UsersJob, procs: number): Drivers {
  const recorders = Object.fromEntries(RECORDER_NAMES.map((n) => [n, createLatencyRecorder()])) as Record<RecorderName, ReturnType<typeof createLatencyRecorder>>;
  const children: ChildProcess[] = [];
  const counts: UsersCounts[] = [];
  const meters: CpuMeter[] = [];
  for (let w = 0; w < procs; w++) {
    const child = fork(workerPath, [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    children.push(child);
    meters.push(new CpuMeter(child.pid!));
    counts.push(emptyCounts());
    child.on('message', (m: ChatWorkerReport) => (counts[w] = m.counts));
  }
  const each = (type: ChatWorkerReport['type'], send: (w: number) => ChatWorkerCommand) =>
    Promise.all(
      children.map(
        (c, w) =>
          new Promise<ChatWorkerReport>((resolve, reject) => {
            const onMessage = (m: ChatWorkerReport) => m.type === type && (c.off('message', onMessage), c.off('exit', onExit), resolve(m));
            const onExit = (code: number | null) => reject(new Error(`chat worker ${w} exited with ${code}`));
            c.on('message', onMessage);
            c.once('exit', onExit);
            c.send(send(w));
          }),
      ),
    );
  return {
    counts: () => sumCounts(counts),
    async setup() {
      await each('ready', (w) => {
        const first = job.first + Math.floor((job.count * w) / procs);
        const end = job.first + Math.floor((job.count * (w + 1)) / procs);
        return { type: 'setup', job: { ...job, first, count: end - first } };
      });
    },
    async run(durationMs) {
      const results = await each('result', () => ({ type: 'go', durationMs }));
      for (const r of results) {
        if (r.type !== 'result') continue;
        for (const [k, enc] of Object.entries(r.recorders)) addEncoded(recorders[k as keyof typeof recorders], enc);
      }
    },
    startCpu: () => meters.forEach((m) => m.start()),
    workerCpu() {
      let seconds = 0, cores = 0;
      for (const m of meters) {
        const r = m.read();
        seconds += r.seconds;
        cores += r.cores;
      }
      return { seconds, cores };
    },
    recorders,
    async close() {
      await Promise.all(
        children.map((c) => new Promise<void>((resolve) => {
          if (c.exitCode !== null) return resolve();
          c.once('exit', () => resolve());
          c.send({ type: 'close' } satisfies ChatWorkerCommand);
          setTimeout(() => (c.kill('SIGKILL'), resolve()), 3000).unref();
        })),
      );
    },
  };
}

/** Runs the scenario. */
export async function runChat(o: ChatOptions, command: string): Promise<ScenarioResult> {
  const startedAt = new Date().toISOString();
  const pace = { ttftMs: o.ttftMs, tokensPerSecond: o.tokensPerSecond, responseTokens: o.tokens };
  const { mock, env } = await startMock(pace);
  const target = await openTarget(o, env);
  const think = o.thinkS ?? 0;
  const dist = o.thinkDist ?? 'exponential';
  const nAddresses = Math.max(1, Math.min(254, o.addresses ?? 8));
  const nAccounts = o.accounts && o.accounts > 0 ? Math.min(o.accounts, o.users) : o.users;
  const procs = Math.max(1, Math.min(o.procs ?? 1, o.users));
  // One process holds fewer than 20,000 open files (hard limit here): a socket each, plus slack.
  if (Math.ceil(o.users / procs) > 18_000) {
    await target.stop();
    await mock.close();
    throw new Error(`${Math.ceil(o.users / procs)} users per load process is over the 20,000 open-files limit per process: raise --procs`);
  }
  const job: UsersJob = {
    url: target.url,
    wsUrl: target.wsUrl,
    first: 0,
    count: o.users,
    totalUsers: o.users,
    accounts: nAccounts,
    addresses: nAddresses,
    setupConcurrency: Math.max(1, Math.ceil((o.setupConcurrency ?? 16) / procs)),
    thinkS: think,
    thinkDist: dist,
    rampMs: (o.ramp ?? Math.min(5, o.duration / 4)) * 1000,
    warmupMs: (o.warmup ?? 0) * 1000,
    ttftMs: o.ttftMs,
  };
  const drivers = procs > 1 ? workerDrivers(job, procs) : localDrivers(job);

  // Setup: accounts, one session and one socket per user — not in the measured window.
  const setupT0 = performance.now();
  const setupMeter = new CpuMeter();
  const setupProgress = new Progress(() => {
    const c = drivers.counts();
    return `setup: ${c.ready}/${o.users} users ready, ${c.setupFailed} failed | ${cpuLine(setupMeter, target)}`;
  }, o.quiet).start();
  await drivers.setup();
  setupProgress.stop();
  const setupS = (performance.now() - setupT0) / 1000;

  // The warm-up (when asked for), then the measured window: CPU and counters from its start.
  const warmupS = o.warmup ?? 0;
  const loadgen = new CpuMeter();
  // The mock answers from this process: how late its loop runs is lateness the mock adds to TTFT.
  const mockLoop = monitorEventLoopDelay({ resolution: MOCK_LOOP_RESOLUTION_MS });
  const startMeters = () => {
    loadgen.start();
    mockLoop.reset();
    mockLoop.enable();
    drivers.startCpu();
    target.cpu?.start();
    for (const p of target.parts ?? []) p.cpu.start();
  };
  startMeters();
  const sendT0 = performance.now();
  let t0 = sendT0;
  let before = warmupS > 0 ? null : await readGatewayCounters(target.url);
  const measuring =
    warmupS > 0
      ? new Promise<void>((resolve) =>
          setTimeout(() => {
            startMeters();
            t0 = performance.now();
            void readGatewayCounters(target.url).then((c) => ((before = c), resolve()), () => resolve());
          }, warmupS * 1000),
        )
      : Promise.resolve();

  // A share of 429s, spread out: every 100 ms the next model request may get one 429 (mock
  // `failFirst: 1`), so that 429s rarely come back to back (five in a row open the breaker).
  const expectedRunS = o.ttftMs / 1000 + o.tokens / Math.max(1, o.tokensPerSecond);
  let carry = 0;
  let injected = 0;
  const faultTimer = setInterval(() => {
    if (o.share429 <= 0) return;
    carry += (o.share429 * drivers.counts().activeUsers * 0.1) / Math.max(0.2, expectedRunS + think);
    if (carry < 1) return;
    carry -= 1;
    injected++;
    mock.setScenario(MOCK_MODEL, { ...pace, fault: '429', failFirst: 1, retryAfterSec: 1 });
  }, 100);

  const { ttft, addedTtft, gap, runTime, warmAddedTtft, warmGap } = drivers.recorders;
  const progress = new Progress(() => {
    const now = performance.now();
    const el = Math.max(0.001, (now - t0) / 1000);
    const c = drivers.counts();
    if (now - sendT0 < warmupS * 1000) return `warm-up ${((now - sendT0) / 1000).toFixed(0)}/${warmupS} s: runs ${c.warmSucceeded}/${c.warmStarted} ok | ${cpuLine(loadgen, target)}`;
    const w = drivers.workerCpu();
    const local = procs > 1 ? ` (added TTFT and gap at the end)` : ` | added ttft p99 ${addedTtft.summary().p99.toFixed(0)} ms | gap p99 ${gap.summary().p99.toFixed(0)} ms`;
    return `users ${c.activeUsers}/${o.users} | runs ${c.succeeded}/${c.started} ok | ${fmtNum(c.frames / el)} frames/s${local} | errors ${Object.values(c.errors).reduce((a, b) => a + b, 0)} | ${cpuLine(loadgen, target)}${w ? ` + workers ${w.cores.toFixed(2)} cores` : ''}`;
  }, o.quiet).start();

  await drivers.run((warmupS + o.duration) * 1000);
  await measuring;
  const { ready, setupFailed, started, succeeded, frames, tokens, errors, warmStarted, warmSucceeded } = drivers.counts();
  clearInterval(faultTimer);
  progress.stop();
  const wallS = (performance.now() - t0) / 1000;
  const mainCpu = loadgen.read();
  mockLoop.disable();
  const mockDelay = loopLateness(mockLoop, MOCK_LOOP_RESOLUTION_MS);
  const workersCpu = drivers.workerCpu();
  await drivers.close();
  const loadCpu: CpuWindow = workersCpu ? { seconds: mainCpu.seconds + workersCpu.seconds, cores: mainCpu.cores + workersCpu.cores } : mainCpu;
  const gwCpu = target.cpu?.read() ?? null;
  const partsCpu = (target.parts ?? []).map((p) => [p.label, p.cpu.read()] as const);
  const rss = target.rssKiB();
  const after = await readGatewayCounters(target.url);
  const counters = counterDelta(before ?? after, after);
  const mockStats = mock.stats;
  await target.stop();
  await mock.close();

  const gapS = gap.summary();
  const addedS = addedTtft.summary();
  const thinkNote = think > 0 ? `${think} s mean, ${dist}${dist === 'uniform' ? ` on [0, ${2 * think}] s` : ''}` : 'none (back to back)';
  const rows: Row[] = [
    ['virtual users', `${o.users} (${ready} ready, ${setupFailed} failed setup)`, `${nAccounts} accounts, sockets over ${nAddresses} source addresses 127.0.0.1–${nAddresses}, ${procs} load process${procs > 1 ? 'es' : ''}`],
    ['stack', o.stack === 'postgres-redis' ? 'Postgres + Redis' : 'embedded (PGlite, in-process bus)', o.url ? 'as started at --url' : ''],
    ['setup (accounts, sessions, sockets)', `${setupS.toFixed(1)} s`, 'not in the measured window'],
    ...(warmupS > 0
      ? ([
          [
            'warm-up (not in the figures below)',
            `${warmupS} s: ${warmSucceeded} / ${warmStarted} runs ok; added TTFT p99 ${warmAddedTtft.summary().p99.toFixed(1)} ms, gap p99 ${warmGap.summary().p99.toFixed(2)} ms`,
            'runs sent before the measured window, on a gateway whose JIT is still compiling the chat path',
          ],
        ] as Row[])
      : []),
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
    ['gateway runtime', describeRuntime(counters, wallS), 'from its /metrics: loop delay of a 20 ms timer over the window'],
    ['mock LLM event loop delay p50/p99/max', formatLoopDelay(mockDelay), `how late a ${MOCK_LOOP_RESOLUTION_MS} ms timer ran in the load-generator process that serves the mock: its lateness is in the TTFT too`],
    ...cpuRows(loadCpu, gwCpu, rss),
    ...partsCpu.map(([label, c]): Row => [label, `${c.cores.toFixed(2)} cores (${c.seconds.toFixed(1)} s)`]),
    ...(workersCpu
      ? ([['load generator split', `${procs} worker processes ${workersCpu.cores.toFixed(2)} cores + main (mock LLM) ${mainCpu.cores.toFixed(2)} cores`]] as Row[])
      : []),
  ];
  return {
    ...reportHead(o.label ?? 'chat', { command, startedAt, durationS: wallS, options: o, target }),
    rows,
    data: {
      users: o.users,
      usersReady: ready,
      setupFailed,
      setupS,
      warmup: warmupS > 0 ? { seconds: warmupS, started: warmStarted, succeeded: warmSucceeded, gatewayAddedTtftMs: warmAddedTtft.summary(), interTokenGapMs: warmGap.summary() } : null,
      accounts: nAccounts,
      loadProcesses: procs,
      mainProcessCpu: mainCpu,
      workerProcessesCpu: workersCpu,
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
      mockLoopDelayMs: mockDelay,
      gatewayRssKiB: rss,
      ...(partsCpu.length ? { cpuParts: Object.fromEntries(partsCpu) } : {}),
    },
    loadgenCpu: loadCpu,
    gatewayCpu: gwCpu,
    notes: [
      `The load generator's CPU includes the mock LLM (same process). Figures cover the measured window only (after setup${warmupS > 0 ? ` and a ${warmupS} s warm-up under the same load` : ''}).`,
      `${injected} 429s armed. Mock LLM in the load-generator process: TTFT ${o.ttftMs} ms, ${o.tokensPerSecond} tokens/s, ${o.tokens} tokens per answer, ${(o.share429 * 100).toFixed(0)} % of model requests answered 429 (Retry-After 1 s; the gateway's model chain retries).`,
    ],
  };
}
