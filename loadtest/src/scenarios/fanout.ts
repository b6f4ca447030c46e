/**
 * `fanout`: one session, M subscribers, one long streamed answer; delivered frames/s and the
 * delivery lag (arrival spread of each frame across subscribers, from its first arrival).
 */
import { createNodeClient } from '@switchboard/protocol/node';
import { createLatencyRecorder, formatSummary } from '../stats/histogram.js';
import { mergeSeqReports, SeqChecker } from '../stats/seq-check.js';
import { gatewayApi, LOAD_PASSWORD, loadUserEmail } from '../support/http-api.js';
import { counterDelta, describeCounters, readGatewayCounters } from '../support/metrics.js';
import { CpuMeter } from '../support/proc.js';
import { joinRaw, seqOf, type RawSubscriber } from '../support/raw-socket.js';
import { fmtNum, Progress, type Row, type ScenarioResult } from '../support/report.js';
import { cpuLine, cpuRows, openTarget, pool, startMock, type CommonOptions, reportHead } from './common.js';

/** Options of the fanout scenario. */
export interface FanoutOptions extends CommonOptions {
  /** Subscribers on the session. @default 200 */
  subscribers: number;
  /** Tokens in the answer. @default 1000 */
  tokens: number;
  /** Mock pace (0 = as fast as the mock can). @default 200 */
  tokensPerSecond: number;
}

/** Runs the scenario. */
export async function runFanout(o: FanoutOptions, command: string): Promise<ScenarioResult> {
  const startedAt = new Date().toISOString();
  const { mock, env } = await startMock({ ttftMs: 0, tokensPerSecond: o.tokensPerSecond, responseTokens: o.tokens });
  const target = await openTarget(o, env);
  const api = gatewayApi(target.url);
  const email = loadUserEmail('fanout', 0);
  await api.register(email, LOAD_PASSWORD);
  const { accessToken } = await api.login(email, LOAD_PASSWORD);
  const { id: sessionId } = await api.createSession(accessToken, 'fanout');

  const lag = createLatencyRecorder();
  const firstArrival = new Map<number, number>();
  const checkers: SeqChecker[] = [];
  let received = 0, firstAt = 0, lastAt = 0;
  const subs: RawSubscriber[] = await pool(o.subscribers, 100, async (i) => {
    const checker = new SeqChecker();
    checkers[i] = checker;
    return joinRaw(target.wsUrl, accessToken, sessionId, (text, at) => {
      const seq = seqOf(text);
      if (seq === null) return;
      checker.see(seq);
      received++;
      if (!firstAt) firstAt = at;
      lastAt = at;
      const first = firstArrival.get(seq);
      if (first === undefined) firstArrival.set(seq, at);
      else lag.record(at - first);
    }, { localAddress: `127.0.0.${(i % 4) + 1}` });
  });

  const loadgen = new CpuMeter();
  target.cpu?.start();
  const before = await readGatewayCounters(target.url);
  const t0 = performance.now();
  const progress = new Progress(
    () => `${o.subscribers} subscribers | ${fmtNum(received)} frames delivered (${fmtNum(received / Math.max(0.001, (performance.now() - t0) / 1000))}/s) | lag p99 ${lag.summary().p99.toFixed(1)} ms | ${cpuLine(loadgen, target)}`,
    o.quiet,
  ).start();
  const sender = createNodeClient({ url: target.wsUrl, token: accessToken, clientName: 'loadtest-fanout' });
  await sender.connect();
  const done = await sender.send({ sessionId, text: 'stream a long answer to everyone' }).done;
  // Let the last frames reach every subscriber.
  const expected = done.seq * o.subscribers;
  const waitUntil = performance.now() + 10_000;
  while (received < expected && performance.now() < waitUntil) await new Promise((r) => setTimeout(r, 20));
  progress.stop();
  const loadCpu = loadgen.read();
  const gwCpu = target.cpu?.read() ?? null;
  const rss = target.rssKiB();
  const after = await readGatewayCounters(target.url);
  sender.close();
  for (const s of subs) s.close();
  await target.stop();
  await mock.close();

  const windowS = Math.max(0.001, (lastAt - firstAt) / 1000);
  const seq = mergeSeqReports(checkers.map((c) => c.report({ expectFirst: 1, expectLast: done.seq })));
  const perCpu = gwCpu && gwCpu.seconds > 0 ? received / gwCpu.seconds : null;
  const rows: Row[] = [
    ['subscribers', `${o.subscribers}`],
    ['answer', `${done.seq - 2} tokens (done: ${done.reason})`, o.tokensPerSecond ? `mock ${o.tokensPerSecond} tokens/s` : 'mock unpaced'],
    ['frames delivered / expected', `${fmtNum(received)} / ${fmtNum(expected)}`],
    ['delivered frames/s', fmtNum(received / windowS), 'first to last arrival'],
    ['frames per gateway CPU-second', perCpu === null ? 'n/a' : fmtNum(perCpu)],
    ['delivery lag p50/p90/p99/p99.9/max', formatSummary(lag.summary(), 2), 'arrival minus first arrival of the same frame'],
    ['seq: lost / duplicated / out of order', `${seq.lost} / ${seq.duplicates} / ${seq.outOfOrder}`, `${seq.clean}/${seq.streams} subscribers clean`],
    ['gateway counters', describeCounters(counterDelta(before, after))],
    ...cpuRows(loadCpu, gwCpu, rss),
  ];
  return {
    ...reportHead('fanout', { command, startedAt, durationS: (performance.now() - t0) / 1000, options: o, target }),
    rows,
    data: { subscribers: o.subscribers, tokens: done.seq - 2, received, expected, framesPerSecond: received / windowS, framesPerGatewayCpuSecond: perCpu, lagMs: lag.summary(), seq, gatewayRssKiB: rss },
    loadgenCpu: loadCpu,
    gatewayCpu: gwCpu,
    notes: [
      'Every subscriber runs in the load-generator process, so the lag includes that process working through the same frame for each subscriber in turn; with one client core it is an upper bound on the gateway-added spread.',
    ],
  };
}
