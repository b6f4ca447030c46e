/**
 * `slow-consumer`: clients that stop reading (their TCP socket is paused) while a fast answer
 * streams to the session. The gateway's memory must stay bounded and those sockets must be
 * closed 4009, while the healthy subscribers get every frame.
 */
import { createNodeClient } from '@switchboard/protocol/node';
import type WebSocket from 'ws';
import { mergeSeqReports, SeqChecker } from '../stats/seq-check.js';
import { gatewayApi, LOAD_PASSWORD, loadUserEmail } from '../support/http-api.js';
import { counterDelta, describeCounters, readGatewayCounters } from '../support/metrics.js';
import { CpuMeter } from '../support/proc.js';
import { joinRaw, seqOf } from '../support/raw-socket.js';
import { fmtNum, Progress, type Row, type ScenarioResult } from '../support/report.js';
import { cpuLine, cpuRows, openTarget, pool, sleep, startMock, type CommonOptions, reportHead } from './common.js';

/** Options of the slow-consumer scenario. */
export interface SlowConsumerOptions extends CommonOptions {
  /** Subscribers that stop reading. @default 20 */
  slow: number;
  /** Subscribers that keep reading. @default 5 */
  healthy: number;
  /** Tokens in the (unpaced) answer. @default 30000 */
  tokens: number;
  /** The gateway's MAX_BACKPRESSURE_BYTES, in KiB. @default 256 */
  limitKiB: number;
}

type Paused = WebSocket & { _socket: { pause(): void; resume(): void } };

/** Runs the scenario. */
export async function runSlowConsumer(o: SlowConsumerOptions, command: string): Promise<ScenarioResult> {
  const startedAt = new Date().toISOString();
  const { mock, env } = await startMock({ ttftMs: 0, tokensPerSecond: 0, responseTokens: o.tokens });
  const target = await openTarget(o, { ...env, MAX_BACKPRESSURE_BYTES: String(o.limitKiB * 1024) });
  const api = gatewayApi(target.url);
  const email = loadUserEmail('slow', 0);
  await api.register(email, LOAD_PASSWORD);
  const { accessToken } = await api.login(email, LOAD_PASSWORD);
  const { id: sessionId } = await api.createSession(accessToken, 'slow consumers');

  const healthyCheckers = Array.from({ length: o.healthy }, () => new SeqChecker());
  let healthyFrames = 0;
  const healthy = await pool(o.healthy, 20, (i) =>
    joinRaw(target.wsUrl, accessToken, sessionId, (text) => {
      const s = seqOf(text);
      if (s !== null) (healthyCheckers[i]!.see(s), healthyFrames++);
    }),
  );
  const slowFrames = new Array<number>(o.slow).fill(0);
  const closeCodes: Record<string, number> = {};
  const slow = await pool(o.slow, 20, async (i) => {
    const s = await joinRaw(target.wsUrl, accessToken, sessionId, () => slowFrames[i]!++);
    s.ws.on('close', (code) => (closeCodes[code] = (closeCodes[code] ?? 0) + 1));
    (s.ws as Paused)._socket.pause();
    return s;
  });

  await sleep(500);
  const rss0 = target.rssKiB();
  let rssPeak = rss0 ?? 0;
  const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, target.rssKiB() ?? 0)), 100);
  const loadgen = new CpuMeter();
  target.cpu?.start();
  const before = await readGatewayCounters(target.url);
  const t0 = performance.now();
  const progress = new Progress(
    () => `${o.slow} paused + ${o.healthy} reading | healthy got ${fmtNum(healthyFrames)} frames | peak RSS ${(rssPeak / 1024).toFixed(0)} MiB | ${cpuLine(loadgen, target)}`,
    o.quiet,
  ).start();
  const sender = createNodeClient({ url: target.wsUrl, token: accessToken, clientName: 'loadtest-slow' });
  await sender.connect();
  const done = await sender.send({ sessionId, text: 'stream a very long answer' }).done;
  const streamS = (performance.now() - t0) / 1000;
  const expected = done.seq * o.healthy;
  const until = performance.now() + 10_000;
  while (healthyFrames < expected && performance.now() < until) await sleep(20);
  const rssEnd = target.rssKiB();
  // Read again so the close frames (or resets) reach the paused clients.
  for (const s of slow) (s.ws as Paused)._socket.resume();
  const closeUntil = performance.now() + 5_000;
  while (Object.values(closeCodes).reduce((a, b) => a + b, 0) < o.slow && performance.now() < closeUntil) await sleep(50);
  clearInterval(sampler);
  progress.stop();
  const loadCpu = loadgen.read();
  const gwCpu = target.cpu?.read() ?? null;
  const after = await readGatewayCounters(target.url);
  sender.close();
  for (const s of [...healthy, ...slow]) s.close();
  await target.stop();
  await mock.close();

  const seq = mergeSeqReports(healthyCheckers.map((c) => c.report({ expectFirst: 1, expectLast: done.seq })));
  const closed4009 = closeCodes['4009'] ?? 0;
  const stillOpen = o.slow - Object.values(closeCodes).reduce((a, b) => a + b, 0);
  const growthMiB = rss0 ? (rssPeak - rss0) / 1024 : null;
  const boundMiB = (o.slow * o.limitKiB * 4) / 1024;
  const rows: Row[] = [
    ['paused / reading subscribers', `${o.slow} / ${o.healthy}`],
    ['answer', `${done.seq - 2} tokens in ${streamS.toFixed(1)} s (done: ${done.reason})`],
    ['MAX_BACKPRESSURE_BYTES', `${o.limitKiB} KiB`],
    ['paused sockets closed 4009', `${closed4009} / ${o.slow}`],
    ['other close codes', Object.entries(closeCodes).filter(([k]) => k !== '4009').map(([k, v]) => `${k}=${v}`).join(', ') || 'none'],
    ['paused sockets still open', `${stillOpen}`],
    ['frames a paused socket got (max)', fmtNum(Math.max(0, ...slowFrames))],
    ['healthy subscribers: frames / expected', `${fmtNum(healthyFrames)} / ${fmtNum(expected)}`, `lost ${seq.lost}, dup ${seq.duplicates}`],
    ['gateway RSS before / peak / after', rss0 ? `${(rss0 / 1024).toFixed(1)} / ${(rssPeak / 1024).toFixed(1)} / ${((rssEnd ?? 0) / 1024).toFixed(1)} MiB` : 'n/a'],
    ['gateway RSS growth (peak − before)', growthMiB === null ? 'n/a' : `${growthMiB.toFixed(1)} MiB`, `paused × 4 × limit = ${boundMiB.toFixed(1)} MiB`],
    ['gateway counters', describeCounters(counterDelta(before, after))],
    ...cpuRows(loadCpu, gwCpu, rssEnd),
  ];
  return {
    ...reportHead('slow-consumer', { command, startedAt, durationS: (performance.now() - t0) / 1000, options: o, target }),
    rows,
    data: { closeCodes, closed4009, stillOpen, slowFramesMax: Math.max(0, ...slowFrames), healthyFrames, expected, seq, rss0KiB: rss0, rssPeakKiB: rssPeak, rssEndKiB: rssEnd, growthMiB, boundMiB, streamS },
    loadgenCpu: loadCpu,
    gatewayCpu: gwCpu,
    notes: [
      'Paused clients stop reading at the TCP level (`ws._socket.pause()`), so the kernel buffers fill first (several MiB per socket on loopback) and only then the gateway\'s own send buffer grows.',
      'The RSS of the gateway includes the embedded database; the growth figure is what the stream added.',
    ],
  };
}
