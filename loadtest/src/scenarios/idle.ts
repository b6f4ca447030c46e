/**
 * `idle`: N idle authenticated sockets held for a duration; the gateway's RSS and KB per socket,
 * measured as (RSS at N − RSS at 0) / N. Clients are spread over several 127.0.0.x source
 * addresses and several worker processes.
 */
import { gatewayApi, LOAD_PASSWORD, loadUserEmail } from '../support/http-api.js';
import { counterDelta, describeCounters, readGatewayCounters } from '../support/metrics.js';
import { CpuMeter, settledRssKiB } from '../support/proc.js';
import { fmtNum, Progress, type Row, type ScenarioResult } from '../support/report.js';
import { openSocketFleet } from '../support/socket-fleet.js';
import { cpuLine, cpuRows, openTarget, sleep, type CommonOptions, reportHead } from './common.js';

/** Options of the idle scenario. */
export interface IdleOptions extends CommonOptions {
  /** Sockets to hold. @default 10000 */
  sockets: number;
  /** Seconds to hold them once open. @default 10 */
  hold: number;
  /** Sockets per client process. @default 15000 */
  perProcess: number;
  /** Source addresses (127.0.0.1 … 127.0.0.N). @default 4 */
  addresses: number;
}

/** Runs the scenario. */
export async function runIdle(o: IdleOptions, command: string): Promise<ScenarioResult> {
  const startedAt = new Date().toISOString();
  const target = await openTarget(o);
  const api = gatewayApi(target.url);
  const email = loadUserEmail('idle', 0);
  await api.register(email, LOAD_PASSWORD);
  const { accessToken } = await api.login(email, LOAD_PASSWORD);
  // Warm up: a tenth of the sockets open and close, so startup garbage is collected first.
  const warm = await openSocketFleet({ wsUrl: target.wsUrl, token: accessToken, sockets: Math.min(2000, Math.ceil(o.sockets / 10)), perProcess: o.perProcess, addresses: o.addresses });
  await warm.close();
  await sleep(2000);
  const rss0 = target.pid ? await settledRssKiB(target.pid) : null;
  const loadgen = new CpuMeter();
  target.cpu?.start();
  const before = await readGatewayCounters(target.url);
  const t0 = performance.now();
  let open = 0, failed = 0;
  const progress = new Progress(
    () => `sockets ${fmtNum(open)}/${fmtNum(o.sockets)} open, ${failed} failed | ${cpuLine(loadgen, target)}`,
    o.quiet,
  ).start();
  const fleet = await openSocketFleet({
    wsUrl: target.wsUrl,
    token: accessToken,
    sockets: o.sockets,
    perProcess: o.perProcess,
    addresses: o.addresses,
    onProgress: (a, b) => ((open = a), (failed = b)),
  });
  const openCpu = target.cpu?.read() ?? null;
  target.cpu?.start();
  await sleep(Math.max(0, o.hold * 1000 - 1000));
  const rssN = target.pid ? await settledRssKiB(target.pid) : null;
  const holdCpu = target.cpu?.read() ?? null;
  const after = await readGatewayCounters(target.url);
  const closed = await fleet.close();
  progress.stop();
  const wallS = (performance.now() - t0) / 1000;
  const loadCpu = loadgen.read();
  const fleetCpu = fleet.cpu();
  await target.stop();

  const kbPerSocket = rss0 !== null && rssN !== null && fleet.open > 0 ? (rssN - rss0) / fleet.open : null;
  const rows: Row[] = [
    ['sockets open / asked', `${fmtNum(fleet.open)} / ${fmtNum(o.sockets)}`, `${fleet.workers} client processes, ${o.addresses} source addresses`],
    ['failed to open', `${fleet.failed}${fleet.failed ? ` (${Object.entries(fleet.errors).map(([k, v]) => `${k}=${v}`).join(', ')})` : ''}`],
    ['time to open all', `${(fleet.openMs / 1000).toFixed(1)} s (${fmtNum(fleet.open / (fleet.openMs / 1000))} sockets/s)`],
    ['closed by the server while held', `${closed.closedByServer}${closed.closedByServer ? ` (${JSON.stringify(closed.codes)})` : ''}`],
    ['gateway RSS at 0 sockets', rss0 ? `${(rss0 / 1024).toFixed(1)} MiB` : 'n/a'],
    ['gateway RSS at N sockets', rssN ? `${(rssN / 1024).toFixed(1)} MiB` : 'n/a', `after ${o.hold} s hold`],
    ['gateway memory per socket', kbPerSocket === null ? 'n/a' : `${kbPerSocket.toFixed(2)} KB`, '(RSS at N − RSS at 0) / N'],
    ['gateway CPU while opening', openCpu ? `${openCpu.cores.toFixed(2)} cores (${openCpu.seconds.toFixed(1)} s)` : 'n/a'],
    ['gateway CPU while holding', holdCpu ? `${holdCpu.cores.toFixed(3)} cores` : 'n/a'],
    ['client processes CPU', `${fleetCpu.seconds.toFixed(1)} s`],
    ['gateway counters', describeCounters(counterDelta(before, after))],
    ...cpuRows(loadCpu, null, rssN).filter(([k]) => k !== 'gateway CPU'),
  ];
  return {
    ...reportHead('idle', { command, startedAt, durationS: wallS, options: o, target }),
    rows,
    data: {
      socketsAsked: o.sockets,
      socketsOpen: fleet.open,
      failed: fleet.failed,
      errors: fleet.errors,
      openMs: fleet.openMs,
      closedByServer: closed,
      rss0KiB: rss0,
      rssNKiB: rssN,
      kbPerSocket,
      gatewayCpuOpening: openCpu,
      gatewayCpuHolding: holdCpu,
      clientProcessesCpu: fleetCpu,
    },
    loadgenCpu: loadCpu,
    gatewayCpu: holdCpu,
    notes: [
      'One user holds every socket (RATE_SOCKETS_PER_USER is raised for the gateway child).',
      'The open-files hard limit is 20,000 per process on this machine kind, for the gateway as well: one gateway process cannot hold more than about 19,900 sockets here.',
    ],
  };
}
