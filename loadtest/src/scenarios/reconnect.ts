/**
 * `reconnect`: many clients stream an answer, every socket is dropped at once mid-stream
 * (`dropConnection()`), and each client resumes with its resume token. Recovered %, lost and
 * duplicated frames (both must be zero), checked by seq contiguity per client.
 */
import { createNodeClient } from '@switchboard/protocol/node';
import type { SwitchboardClient } from '@switchboard/protocol';
import { createLatencyRecorder, formatSummary } from '../stats/histogram.js';
import { mergeSeqReports, SeqChecker, type SeqReport } from '../stats/seq-check.js';
import { gatewayApi, LOAD_PASSWORD, loadUserEmail } from '../support/http-api.js';
import { counterDelta, describeCounters, readGatewayCounters } from '../support/metrics.js';
import { CpuMeter } from '../support/proc.js';
import { fmtNum, Progress, type Row, type ScenarioResult } from '../support/report.js';
import { cpuLine, cpuRows, openTarget, pool, sleep, startMock, type CommonOptions, reportHead } from './common.js';

/** Options of the reconnect scenario. */
export interface ReconnectOptions extends CommonOptions {
  /** Clients, each streaming on its own session. @default 100 */
  clients: number;
  /** Tokens per answer (at 50 tokens/s). @default 150 */
  tokens: number;
  /** Drop every socket this long after the sends. @default 1000 */
  dropAfterMs: number;
  /** Give up on a run after this long. @default 30000 */
  timeoutMs: number;
}

interface ClientOutcome {
  /** The RunHandle's `done` promise resolved. */
  done: boolean;
  /** A `done` frame for the session reached the client (onFrame). */
  sawDone: boolean;
  reason?: string;
  resumed: boolean;
  report: SeqReport;
  duplicatesDropped: number;
  recoveryMs: number | null;
  error?: string;
}

/** Runs the scenario. */
export async function runReconnect(o: ReconnectOptions, command: string): Promise<ScenarioResult> {
  const startedAt = new Date().toISOString();
  const { mock, env } = await startMock({ ttftMs: 100, tokensPerSecond: 50, responseTokens: o.tokens });
  const target = await openTarget(o, env);
  const api = gatewayApi(target.url);
  const email = loadUserEmail('reconnect', 0);
  await api.register(email, LOAD_PASSWORD);
  const { accessToken } = await api.login(email, LOAD_PASSWORD);
  const sessions = await pool(o.clients, 20, (i) => api.createSession(accessToken, `reconnect ${i}`));
  const clients: SwitchboardClient[] = await pool(o.clients, 50, async () => {
    const c = createNodeClient({ url: target.wsUrl, token: accessToken, clientName: 'loadtest-reconnect', reconnectBaseMs: 250 });
    await c.connect();
    return c;
  });

  const loadgen = new CpuMeter();
  target.cpu?.start();
  const before = await readGatewayCounters(target.url);
  const t0 = performance.now();
  const recovery = createLatencyRecorder();
  let dropped = 0, finished = 0, resumedCount = 0;
  let dropAt = 0;
  const progress = new Progress(
    () => `${o.clients} clients | dropped ${dropped} | resumed ${resumedCount} | done ${finished} | ${cpuLine(loadgen, target)}`,
    o.quiet,
  ).start();

  const outcomes = await Promise.all(
    clients.map(async (client, i): Promise<ClientOutcome> => {
      const sessionId = sessions[i]!.id;
      const checker = new SeqChecker();
      let resumed = false;
      let sawDone = false;
      let doneSeq: number | undefined;
      let recoveryMs: number | null = null;
      const off = client.onFrame((f) => {
        if (f.type === 'ready' && f.resumed) {
          resumed = true;
          resumedCount++;
        }
        if ('seq' in f && 'sessionId' in f && f.type !== 'joined' && f.sessionId === sessionId) {
          if (dropAt && recoveryMs === null && performance.now() > dropAt) {
            recoveryMs = performance.now() - dropAt;
            recovery.record(recoveryMs);
          }
          checker.see(f.seq);
          if (f.type === 'done') (sawDone = true), (doneSeq = f.seq);
        }
      });
      const run = client.send({ sessionId, text: 'tell me a long story about sockets' });
      try {
        const done = await Promise.race([run.done, sleep(o.timeoutMs).then(() => null)]);
        finished++;
        return {
          done: done !== null,
          sawDone,
          reason: done?.reason,
          resumed,
          report: checker.report({ expectFirst: 1, expectLast: done?.seq ?? doneSeq }),
          duplicatesDropped: client.duplicatesDropped,
          recoveryMs,
          error: done === null ? 'timeout' : undefined,
        };
      } catch (e) {
        return { done: false, sawDone, resumed, report: checker.report({ expectFirst: 1 }), duplicatesDropped: client.duplicatesDropped, recoveryMs, error: (e as { code?: string }).code ?? String(e) };
      } finally {
        off();
      }
    }).concat([
      (async () => {
        await sleep(o.dropAfterMs);
        dropAt = performance.now();
        for (const c of clients) {
          c.dropConnection();
          dropped++;
        }
        return null as unknown as ClientOutcome;
      })(),
    ]),
  );
  const results = outcomes.filter(Boolean);
  progress.stop();
  const loadCpu = loadgen.read();
  const gwCpu = target.cpu?.read() ?? null;
  const rss = target.rssKiB();
  const after = await readGatewayCounters(target.url);
  for (const c of clients) c.close();
  await target.stop();
  await mock.close();

  const seq = mergeSeqReports(results.map((r) => r.report));
  const dupDropped = results.reduce((a, r) => a + r.duplicatesDropped, 0);
  const recovered = results.filter((r) => r.sawDone && r.report.lost === 0 && r.report.duplicates === 0 && r.report.outOfOrder === 0).length;
  const handleDone = results.filter((r) => r.done).length;
  const errors: Record<string, number> = {};
  for (const r of results) {
    const k = r.error ? `sdk:${r.error}` : r.reason && r.reason !== 'stop' ? `done:${r.reason}` : null;
    if (k) errors[k] = (errors[k] ?? 0) + 1;
  }
  const rows: Row[] = [
    ['clients (one session each)', `${o.clients}`],
    ['sockets dropped mid-stream', `${dropped}`, `${o.dropAfterMs} ms after the sends`],
    ['resumed with hello{resume}', `${results.filter((r) => r.resumed).length}`],
    ['recovered (done frame, contiguous seq)', `${recovered} (${((100 * recovered) / Math.max(1, o.clients)).toFixed(1)} %)`],
    ['RunHandle.done resolved in the SDK', `${handleDone} / ${o.clients}`, 'frames that arrive before the ack are not routed to the handle'],
    ['frames lost', `${seq.lost}`, 'must be 0'],
    ['frames duplicated (seen by the checker)', `${seq.duplicates}`, 'must be 0'],
    ['duplicates the server re-sent (client dropped them)', `${dupDropped}`],
    ['out of order', `${seq.outOfOrder}`],
    ['session frames received', fmtNum(seq.frames)],
    ['drop → first frame again p50/p90/p99/p99.9/max', formatSummary(recovery.summary(), 0), 'client backoff 125–250 ms included'],
    ['errors', Object.keys(errors).length ? Object.entries(errors).map(([k, v]) => `${k}=${v}`).join(', ') : 'none'],
    ['gateway counters', describeCounters(counterDelta(before, after))],
    ...cpuRows(loadCpu, gwCpu, rss),
  ];
  return {
    ...reportHead('reconnect', { command, startedAt, durationS: (performance.now() - t0) / 1000, options: o, target }),
    rows,
    data: { clients: o.clients, dropped, handleDone, resumed: results.filter((r) => r.resumed).length, recovered, recoveredPct: (100 * recovered) / Math.max(1, o.clients), seq, duplicatesServerResent: dupDropped, recoveryMs: recovery.summary(), errors, sampleMissing: results.find((r) => r.report.lost)?.report.missingSample ?? [] },
    loadgenCpu: loadCpu,
    gatewayCpu: gwCpu,
    notes: ['Every client is the typed SDK client (`createNodeClient`); `dropConnection()` terminates the TCP socket as a network failure would. The client itself drops frames it has already seen; those are counted as "re-sent by the server".'],
  };
}
