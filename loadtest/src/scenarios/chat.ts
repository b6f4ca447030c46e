/**
 * `chat`: virtual users do the whole flow — register → login → session → socket → send → read
 * to `done` — against the mock LLM at a realistic pace, for a duration.
 */
import { createNodeClient } from '@switchboard/protocol/node';
import type { SwitchboardClient } from '@switchboard/protocol';
import { createLatencyRecorder, formatSummary } from '../stats/histogram.js';
import { counterDelta, describeCounters, readGatewayCounters } from '../support/metrics.js';
import { CpuMeter } from '../support/proc.js';
import { fmtNum, Progress, type Row, type ScenarioResult } from '../support/report.js';
import { gatewayApi, HttpCallError, LOAD_PASSWORD, loadUserEmail } from '../support/http-api.js';
import { cpuLine, cpuRows, MOCK_MODEL, openTarget, sleep, startMock, type CommonOptions, reportHead } from './common.js';

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
}

const PROMPTS = ['tell me about sockets', 'how do streams work here', 'say something about gateways', 'describe the weather of ports'];

/** Runs the scenario. */
export async function runChat(o: ChatOptions, command: string): Promise<ScenarioResult> {
  const startedAt = new Date().toISOString();
  const pace = { ttftMs: o.ttftMs, tokensPerSecond: o.tokensPerSecond, responseTokens: o.tokens };
  const { mock, env } = await startMock(pace);
  const target = await openTarget(o, env);
  const api = gatewayApi(target.url);
  const loadgen = new CpuMeter();
  target.cpu?.start();
  const before = await readGatewayCounters(target.url);

  const ttft = createLatencyRecorder();
  const gap = createLatencyRecorder();
  const runTime = createLatencyRecorder();
  const errors: Record<string, number> = {};
  const countError = (code: string) => (errors[code] = (errors[code] ?? 0) + 1);
  let started = 0, succeeded = 0, frames = 0, tokens = 0, activeUsers = 0;
  const t0 = performance.now();
  const endAt = t0 + o.duration * 1000;

  // A share of 429s, spread out: every 100 ms the next model request may get one 429 (mock
  // `failFirst: 1`), so that 429s rarely come back to back (five in a row open the breaker).
  const expectedRunS = o.ttftMs / 1000 + o.tokens / Math.max(1, o.tokensPerSecond);
  let carry = 0;
  let injected = 0;
  const faultTimer = setInterval(() => {
    carry += (o.share429 * activeUsers * 0.1) / Math.max(0.2, expectedRunS);
    if (carry < 1) return;
    carry -= 1;
    injected++;
    mock.setScenario(MOCK_MODEL, { ...pace, fault: '429', failFirst: 1, retryAfterSec: 1 });
  }, 100);

  const progress = new Progress(() => {
    const el = (performance.now() - t0) / 1000;
    return `users ${activeUsers}/${o.users} | runs ${succeeded}/${started} ok | ${fmtNum(frames / el)} frames/s | ttft p99 ${ttft.summary().p99.toFixed(0)} ms | errors ${Object.values(errors).reduce((a, b) => a + b, 0)} | ${cpuLine(loadgen, target)}`;
  }, o.quiet).start();

  const ramp = (o.ramp ?? Math.min(5, o.duration / 4)) * 1000;
  async function user(i: number): Promise<void> {
    await sleep((ramp * i) / Math.max(1, o.users));
    let client: SwitchboardClient | null = null;
    try {
      const email = loadUserEmail('chat', i);
      await api.register(email, LOAD_PASSWORD);
      const { accessToken } = await api.login(email, LOAD_PASSWORD);
      const { id: sessionId } = await api.createSession(accessToken, `load ${i}`);
      client = createNodeClient({ url: target.wsUrl, token: accessToken, clientName: 'loadtest-chat' });
      await client.connect();
      activeUsers++;
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
      }
    } catch (e) {
      countError(e instanceof HttpCallError ? `http:${e.code}` : ((e as { code?: string }).code ?? 'exception'));
    } finally {
      if (client) activeUsers--;
      client?.close();
    }
  }
  await Promise.all(Array.from({ length: o.users }, (_, i) => user(i)));
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
  const rows: Row[] = [
    ['virtual users', `${o.users}`],
    ['runs (ok / started)', `${succeeded} / ${started}`],
    ['success', `${started ? ((100 * succeeded) / started).toFixed(2) : '0'} %`],
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
    ...reportHead('chat', { command, startedAt, durationS: wallS, options: o, target }),
    rows,
    data: {
      users: o.users,
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
      `${injected} 429s armed. Mock LLM in the load-generator process: TTFT ${o.ttftMs} ms, ${o.tokensPerSecond} tokens/s, ${o.tokens} tokens per answer, ${(o.share429 * 100).toFixed(0)} % of model requests answered 429 (Retry-After 1 s; the gateway's model chain retries).`,
    ],
  };
}
